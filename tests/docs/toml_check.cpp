// Parses every ```toml block of the README and docs (written out by extract_snippets.py) with the
// library's own reader; a block that does not parse fails the test with the reader's message.
#include <atrest/config/toml_config.hpp>

#include <cstdio>
#include <filesystem>

int main(int argc, char** argv) {
    int bad = 0, checked = 0;
    for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
        if (entry.path().extension() != ".toml") continue;
        ++checked;
        try {
            (void)atrest::load_toml_config(entry.path());
        } catch (const std::exception& e) {
            std::fprintf(stderr, "%s: %s\n", entry.path().filename().c_str(), e.what());
            ++bad;
        }
    }
    std::printf("%d TOML blocks from the docs parsed, %d failed\n", checked - bad, bad);
    return argc == 2 && bad == 0 && checked > 0 ? 0 : 1;
}
