#pragma once
/// The master-key family: the concept, the sealed-blob format, the file, in-memory and plaintext
/// sources, rotation with a previous key, and a run-time choice among them.
#include <atrest/master_key/any_master_key.hpp>
#include <atrest/master_key/concepts.hpp>
#include <atrest/master_key/file_master_key.hpp>
#include <atrest/master_key/memory_master_key.hpp>
#include <atrest/master_key/plaintext_master_key.hpp>
#include <atrest/master_key/sealed_blob.hpp>
#include <atrest/master_key/with_previous.hpp>
