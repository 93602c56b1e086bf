#pragma once
/// The dictionary family: key dictionary, file dictionary with its log, stores and the key manager.
#include <atrest/dict/clock_policy.hpp>
#include <atrest/dict/dictionary_store.hpp>
#include <atrest/dict/file_dictionary.hpp>
#include <atrest/dict/file_info.hpp>
#include <atrest/dict/key_dictionary.hpp>
#include <atrest/dict/key_manager.hpp>
#include <atrest/dict/options.hpp>
#include <atrest/dict/log_format.hpp>
