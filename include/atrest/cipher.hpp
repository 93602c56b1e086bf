#pragma once
/// The cipher family: methods, policies, the CTR engine and runtime dispatch.
#include <atrest/cipher/cipher_policy.hpp>
#include <atrest/cipher/ctr_stream.hpp>
#include <atrest/cipher/dispatch.hpp>
#include <atrest/cipher/method.hpp>
