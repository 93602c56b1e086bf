#pragma once
/// The file family: its concepts, the POSIX file, the encrypted file, its runtime-dispatched
/// opener, and the owning data file the key manager hands engines.
#include <atrest/file/authenticated_file.hpp>
#include <atrest/file/concepts.hpp>
#include <atrest/file/data_file.hpp>
#include <atrest/file/encrypted_file.hpp>
#include <atrest/file/open_encrypted.hpp>
#include <atrest/file/posix_file.hpp>
