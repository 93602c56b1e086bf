#pragma once
/// The AEAD family: authenticated ciphers (policies and their concept), the segmented-stream
/// engine and its wire formats (Tink's AES-GCM-HKDF streaming, MinIO's DARE 2.0, and atrest's file
/// stream under authenticated data files).
#include <atrest/aead/aead_cipher.hpp>
#include <atrest/aead/concepts.hpp>
#include <atrest/aead/dare.hpp>
#include <atrest/aead/file_stream.hpp>
#include <atrest/aead/memory_file.hpp>
#include <atrest/aead/policies.hpp>
#include <atrest/aead/segment_layout.hpp>
#include <atrest/aead/stream_reader.hpp>
#include <atrest/aead/stream_writer.hpp>
#include <atrest/aead/tink_streaming.hpp>
