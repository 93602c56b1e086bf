#!/usr/bin/env python3
"""Turns every ```cpp and ```toml block of README.md and docs/*.md into a file the build checks.

A ```cpp block with `int main(` is compiled as it is. Any other ```cpp block is a fragment: its
#include lines go to the top and the rest becomes the body of a function that sees the names the
docs use for the reader's own objects (tests/docs/prelude.hpp: data_dir, keys, path, block, ...).
A fragment whose first line is `// at namespace scope` is compiled at namespace scope instead.
Every ```toml block is written out for atrest_doc_toml_check, which parses it with
parse_toml_config. Blocks tagged with another language (sh, cmake, text, json) are not checked here.

usage: extract_snippets.py SOURCE_DIR OUT_DIR   (prints the generated .cpp files, one per line)
"""
import pathlib
import re
import sys

FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


def blocks(path):
    text = path.read_text(encoding="utf-8")
    for m in FENCE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        yield m.group(1), m.group(2), line


def main():
    src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for old in list(out.glob("*.cpp")) + list(out.glob("*.toml")):
        old.unlink()
    docs = [src / "README.md"] + sorted((src / "docs").glob("*.md"))
    generated = []
    for doc in docs:
        rel = doc.relative_to(src).as_posix()
        stem = re.sub(r"[^A-Za-z0-9]+", "_", rel)
        for lang, body, line in blocks(doc):
            where = f"{rel}:{line}"
            if lang == "toml":
                (out / f"{stem}_{line}.toml").write_text(f"# {where}\n{body}", encoding="utf-8")
                continue
            if lang != "cpp":
                continue
            name = f"{stem}_{line}.cpp"
            if "int main(" in body:
                code = f'#line {line + 1} "{rel}"\n{body}'
            else:
                lines = body.splitlines()
                includes = [l for l in lines if l.startswith("#include")]
                rest = [l if not l.startswith("#include") else "" for l in lines]
                at_namespace = bool(lines) and lines[0].strip() == "// at namespace scope"
                fn = re.sub(r"[^A-Za-z0-9]+", "_", name[:-4])
                head = "\n".join(includes) + '\n#include "prelude.hpp"\n'
                if at_namespace:
                    code = head + f"namespace docs_context {{\n#line {line + 1} \"{rel}\"\n" + "\n".join(rest) + "\n}\n"
                else:
                    code = (head + f"namespace docs_context {{\n[[maybe_unused]] void snippet_{fn}() {{\n"
                            f"#line {line + 1} \"{rel}\"\n" + "\n".join(rest) + "\n}\n}\n")
            (out / name).write_text(f"// {where}, extracted by tests/docs/extract_snippets.py\n{code}", encoding="utf-8")
            generated.append(str(out / name))
    print("\n".join(generated))


if __name__ == "__main__":
    main()
