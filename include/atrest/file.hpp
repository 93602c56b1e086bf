#pragma once
/// The file family: the file policy concepts, the POSIX file, the encrypted file and its
/// runtime-dispatched opener.
#include <atrest/file/data_file.hpp>
#include <atrest/file/encrypted_file.hpp>
#include <atrest/file/file_policy.hpp>
#include <atrest/file/open_encrypted.hpp>
#include <atrest/file/posix_file.hpp>
