#pragma once
/// The key-wrap family: the concept and the AES-256-GCM policy.
#include <atrest/keywrap/aes256_gcm_wrap.hpp>
#include <atrest/keywrap/concepts.hpp>
