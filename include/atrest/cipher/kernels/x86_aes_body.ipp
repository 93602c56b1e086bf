// The fused AES-CTR kernel, included by x86_aes.hpp once per instruction set, each time inside
// its own namespace with ATREST_AES_TARGET (the function target attribute) defined and an `isa`
// struct (vector type, blocks per register, the operations) declared. Not a header of its own.
//
// A step is M registers (isa::blocks·M blocks): counters made in registers, the rounds, the XOR
// with the data read straight from memory. Partial steps (a call's unaligned head, its tail, a
// call shorter than a step) go through a stack buffer with the smallest register count that
// covers them, reading each round key where it is used.

/// Round keys read from the stream's array where they are used (short calls: no set-up).
struct key_memory {
    const std::uint8_t* p;
    [[ATREST_AES_TARGET, gnu::always_inline]] isa::vec operator[](int r) const noexcept {
        return isa::round_key(p + 16 * r);
    }
};

/// Keystream blocks c, c+1, … (isa::blocks·M of them) into x[0..M); `rk[r]` is round key r.
/// Counters are made with one byte swap per step and a 32-bit add per register on the big-endian
/// form where the step stays inside the counter's last byte (most steps), else with 64-bit adds
/// on the little-endian form and a byte swap per register, else (a carry into the high half
/// inside the step) one by one.
template <int Nr, int M, class Keys>
[[ATREST_AES_TARGET, gnu::always_inline]] inline void keystream(const Keys& rk, counter128 c, isa::vec* x) noexcept {
    constexpr int count = isa::blocks * M;
    const bool in_last_byte = (c.lo & 0xff) <= 256 - count;
    if (in_last_byte) {
        const isa::vec base = isa::bswap(isa::counter(c));
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) x[j] = isa::add32(base, isa::step_last_byte(j));
    } else if (c.lo <= ~std::uint64_t{0} - (count - 1)) {
        const isa::vec base = isa::counter(c);
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) x[j] = isa::bswap(isa::add64(base, isa::step64(j)));
    } else {
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) {
            counter128 lanes[isa::blocks];
            for (int l = 0; l < isa::blocks; ++l) lanes[l] = counter_add(c, static_cast<std::uint64_t>(isa::blocks * j + l));
            x[j] = isa::bswap(isa::counters(lanes));
        }
    }
#pragma GCC unroll 16
    for (int j = 0; j < M; ++j) x[j] = isa::xor_(x[j], rk[0]);
#pragma GCC unroll 16
    for (int r = 1; r < Nr; ++r) {
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) x[j] = isa::aesenc(x[j], rk[r]);
    }
#pragma GCC unroll 16
    for (int j = 0; j < M; ++j) x[j] = isa::aesenclast(x[j], rk[Nr]);
}

/// Bytes [skip, skip+len) of the keystream from counter c, through a stack buffer of M registers.
template <int Nr, int M>
[[ATREST_AES_TARGET, gnu::always_inline]] inline void partial(key_memory rk, counter128 c, std::size_t skip,
                                                              const std::byte* in, std::byte* out, std::size_t len) noexcept {
    constexpr std::size_t width = 16 * isa::blocks;
    isa::vec x[M];
    keystream<Nr, M>(rk, c, x);
    alignas(32) std::uint8_t ks[M * width];
#pragma GCC unroll 16
    for (int j = 0; j < M; ++j) isa::storeu(ks + width * j, x[j]);
    xor_into_w<width>(out, in, ks + skip, len);
}

/// Bytes [skip, skip+len) from counter c, skip+len at most one step: the smallest group that covers them.
template <int Nr>
[[ATREST_AES_TARGET]] inline void short_run(key_memory rk, counter128 c, std::size_t skip, const std::byte* in,
                                            std::byte* out, std::size_t len) noexcept {
    const std::size_t registers = ((skip + len + 15) / 16 + isa::blocks - 1) / isa::blocks;
    if (registers <= 1) return partial<Nr, 1>(rk, c, skip, in, out, len);
    if (registers <= 2) return partial<Nr, 2>(rk, c, skip, in, out, len);
    if (registers <= 4) return partial<Nr, 4>(rk, c, skip, in, out, len);
    partial<Nr, 8>(rk, c, skip, in, out, len);
}

/// The full steps of a call (n at least one step) with the counters made by integer code: each
/// step's M counter blocks, already XORed with round key 0, wait in a stack array; while a step's
/// rounds run, the integer units write the next step's low 64 bits (byte-swapped, XORed with the
/// key's) there, so no vector unit is spent on counters or on the first AddRoundKey, and the last
/// round takes (data XOR last round key) as its key, so AESENCLAST leaves the output itself. A
/// step whose counters cross 2^64 goes through `keystream`, which carries into the high half. For
/// one block per register only (the 128-bit AES-NI kernel). Returns the bytes done; `counter`
/// advances. The array holds key bytes (counter XOR round key 0) and is scrubbed before returning.
template <int Nr, int M>
[[ATREST_AES_TARGET, gnu::always_inline]] inline std::size_t full_steps_memory_counters(const ctr_state& s, counter128& counter,
                                                                                 const std::byte* in, std::byte* out,
                                                                                 std::size_t n) noexcept {
    static_assert(isa::blocks == 1 || Nr == 0, "one block per register only");
    constexpr std::size_t step = 16 * M;
    const key_memory keys{s.round_keys};
    std::uint64_t key0_hi = 0, key0_lo = 0;  // round key 0's bytes 0-7 and 8-15, as they lie in memory
    std::memcpy(&key0_hi, s.round_keys, 8);
    std::memcpy(&key0_lo, s.round_keys + 8, 8);
    alignas(16) std::uint64_t blocks[M][2];  // counter XOR round key 0, in memory order
    const auto no_carry_inside = [](counter128 x) { return x.lo <= ~std::uint64_t{0} - (M - 1); };
    const auto write_low = [&](counter128 x) {
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) blocks[j][1] = atrest::detail::byteswap(x.lo + static_cast<std::uint64_t>(j)) ^ key0_lo;
    };
    const auto write_all = [&](counter128 x) {
        const std::uint64_t hi = atrest::detail::byteswap(x.hi) ^ key0_hi;
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) blocks[j][0] = hi;
        write_low(x);
    };
    counter128 c = counter;  // a local: stores through `out` (std::byte) could alias `counter`
    bool written = false;    // whether `blocks` holds c's counters
    std::size_t pos = 0;
    for (; n - pos >= step; pos += step) {
        isa::vec x[M];
        const counter128 next = counter_add(c, M);
        if (!no_carry_inside(c)) {  // at most once per 2^64 blocks
            keystream<Nr, M>(keys, c, x);
#pragma GCC unroll 16
            for (int j = 0; j < M; ++j) isa::storeu(out + pos + 16 * j, isa::xor_(isa::loadu(in + pos + 16 * j), x[j]));
            c = next;
            written = false;
            continue;
        }
        if (!written) write_all(c);
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) x[j] = isa::loadu(blocks[j]);
        written = next.hi == c.hi && no_carry_inside(next);  // else the next step writes them all
        if (written) write_low(next);
#pragma GCC unroll 16
        for (int r = 1; r < Nr; ++r) {
            const isa::vec k = keys[r];
#pragma GCC unroll 16
            for (int j = 0; j < M; ++j) x[j] = isa::aesenc(x[j], k);
        }
        const isa::vec last = keys[Nr];
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) {
            isa::storeu(out + pos + 16 * j, isa::aesenclast(x[j], isa::xor_(isa::loadu(in + pos + 16 * j), last)));
        }
        c = next;
    }
    counter = c;
    botan_compat::secure_scrub(blocks, sizeof blocks);
    return pos;
}

/// The kernel (`ctr_kernel_fn`) for AES with Nr rounds.
template <int Nr>
[[ATREST_AES_TARGET]] void ctr(const ctr_state& s, std::uint64_t offset, const std::byte* in, std::byte* out,
                               std::size_t n) {
    constexpr int M = 8;
    constexpr std::size_t width = 16 * isa::blocks;
    constexpr std::size_t step = M * width;
    const key_memory keys{s.round_keys};
    counter128 c = counter_at(s, offset);
    std::size_t pos = 0;
    if (const std::size_t skip = static_cast<std::size_t>(offset % 16); skip != 0 || n < step) {
        pos = std::min(n, step - skip);
        short_run<Nr>(keys, c, skip, in, out, pos);
        c = counter_add(c, (skip + pos + 15) / 16);
    }
    if (n - pos < step) {
        if (pos < n) short_run<Nr>(keys, c, 0, in + pos, out + pos, n - pos);
        return;
    }
    if constexpr (isa::counters_in_memory) {
        pos += full_steps_memory_counters<Nr, M>(s, c, in + pos, out + pos, n - pos);
    } else {
        isa::vec rk[Nr + 1];
#pragma GCC unroll 16
        for (int r = 0; r <= Nr; ++r) rk[r] = keys[r];
        for (; n - pos >= step; pos += step) {
            isa::vec x[M];
            keystream<Nr, M>(rk, c, x);
#pragma GCC unroll 16
            for (int j = 0; j < M; ++j) {
                isa::storeu(out + pos + width * j, isa::xor_(isa::loadu(in + pos + width * j), x[j]));
            }
            c = counter_add(c, static_cast<std::uint64_t>(isa::blocks * M));
        }
    }
    if (pos < n) short_run<Nr>(keys, c, 0, in + pos, out + pos, n - pos);
}
