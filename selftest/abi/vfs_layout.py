#!/usr/bin/python3
"""Write a C program that prints the layout of the structs of a vfs.h.

Usage: vfs_layout.py VFS_H OUT_C

Reads the struct definitions of VFS_H (stock 4.22's source3/include/vfs.h,
as a module built for the release sees them) and writes OUT_C: compiled
against a Samba tree's headers, it prints one line per member and struct,

    version SMB_VFS_INTERFACE_VERSION
    size STRUCT BYTES
    offset STRUCT MEMBER BYTES

so that two builds of it (stock headers, patched headers) can be compared
line by line.  Bit-fields have no offset and are left out; a nested
struct counts as one member (its size shows in the offsets after it).
"""

import re
import sys


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return "\n".join(l for l in text.split("\n")
                     if not l.lstrip().startswith("#"))


def top_level_structs(text):
    """(C type, body) of each struct defined at file scope."""
    head = re.compile(r"\b(typedef\s+)?struct\s+(\w+)\s*\{")
    pos = 0
    while True:
        m = head.search(text, pos)
        if not m:
            return
        depth, i = 1, m.end()
        while depth:
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
            i += 1
        yield "struct " + m.group(2), text[m.end():i - 1]
        pos = i


def members(body):
    """Names of the members of a struct body that offsetof() can take."""
    decls, depth, cur = [], 0, ""
    for ch in body:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == ";" and depth == 0:
            decls.append(cur)
            cur = ""
        else:
            cur += ch
    names = []
    for d in decls:
        d = " ".join(d.split())
        if not d:
            continue
        if "(" in d:
            m = re.search(r"\(\s*\*\s*(\w+)\s*\)", d)
            if m:
                names.append(m.group(1))
            continue
        if "}" in d:
            # struct { ... } name
            names.append(re.findall(r"\w+", d.rsplit("}", 1)[1])[-1])
            continue
        if ":" in d:
            continue
        d = re.sub(r"\[[^\]]*\]", "", d)
        parts = d.split(",")
        names.append(re.findall(r"\w+", parts[0])[-1])
        for p in parts[1:]:
            names.append(re.findall(r"\w+", p)[-1])
    return names


def main():
    src, out = sys.argv[1], sys.argv[2]
    with open(src) as f:
        text = strip_comments(f.read())
    lines = [
        "#include \"includes.h\"",
        "#include \"smbd/smbd.h\"",
        "#include <stddef.h>",
        "#include <stdio.h>",
        "int main(void)",
        "{",
        "\tprintf(\"version %d\\n\", SMB_VFS_INTERFACE_VERSION);",
    ]
    for ctype, body in top_level_structs(text):
        lines.append("\tprintf(\"size %s %%zu\\n\", sizeof(%s));"
                     % (ctype, ctype))
        for name in members(body):
            lines.append("\tprintf(\"offset %s %s %%zu\\n\", "
                         "offsetof(%s, %s));" % (ctype, name, ctype, name))
    lines += ["\treturn 0;", "}", ""]
    with open(out, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
