#pragma once
/// Objects in MinIO's design: a fresh key per object, sealed under a key derived from an external
/// key (SSE-C's client key, SSE-S3/SSE-KMS's data key from a master key or KMS) and the object's
/// name, kept as metadata beside the object; rotation re-seals the key, never the data.
#include <atrest/object/concepts.hpp>
#include <atrest/object/external_keys.hpp>
#include <atrest/object/metadata.hpp>
#include <atrest/object/object_key.hpp>
#include <atrest/object/sealed_object.hpp>
