#pragma once
/// The dictionary family: its concepts, the key dictionary, the file dictionary with its log, the
/// default store and clock, the options, and the key manager.
#include <atrest/dict/concepts.hpp>
#include <atrest/dict/file_dictionary.hpp>
#include <atrest/dict/file_info.hpp>
#include <atrest/dict/key_dictionary.hpp>
#include <atrest/dict/key_manager.hpp>
#include <atrest/dict/log_format.hpp>
#include <atrest/dict/options.hpp>
#include <atrest/dict/posix_store.hpp>
#include <atrest/dict/system_clock.hpp>
