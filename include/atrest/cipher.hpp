#pragma once
/// The cipher family: its concepts, the policies and their one list, what follows from the list
/// (names, sizes, parsing, dispatch), and the CTR engine.
#include <atrest/cipher/concepts.hpp>
#include <atrest/cipher/ctr_stream.hpp>
#include <atrest/cipher/method.hpp>
#include <atrest/cipher/methods.hpp>
#include <atrest/cipher/policies.hpp>
