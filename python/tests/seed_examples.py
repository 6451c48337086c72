"""Extracts the code examples of the seed document (SDK-Documentation.txt)."""
import os
import re
from typing import List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = os.environ.get("ANGO_SEED_DOC") or os.path.join(HERE, "..", "..", "..", "shared", "seed",
                                                        "SDK-Documentation.txt")
if not os.path.exists(SEED):
    SEED = "/work/shared/seed/SDK-Documentation.txt"

STARTS = (re.compile(r"^from imerit_ango"), re.compile(r"^existing_proj = "), re.compile(r"^leaf1 = "))
CODE = re.compile(r"^(from |import |print\(|for |while |if |elif |else:|def |class |return |#|\)|\]|\}|try:|except|with |"
                  r"[A-Za-z_][\w\.]*(\[[^\]]*\])*\s*(=|\(|\.|\+=|-=))")
# A documentation heading such as "get_metrics(project_id, metric)" looks like a call.
HEADING = re.compile(r"^(\w+)\(([\w, ]*)\)$")
SDK_METHOD_NAMES = {"add_members_to_project", "assign_batches", "assign_task", "create_attachment", "create_batch",
                    "create_issue", "create_label_set", "create_project", "export", "exportV3", "get_assets",
                    "get_metrics", "get_batches", "get_project", "get_storages", "get_task", "get_tasks"}


#: Examples the document cuts off mid-statement (run as far as they go; not type-checked).
TRUNCATED: set = set()


def examples() -> List[Tuple[str, str]]:
    """(name, code) for every runnable example, in document order."""
    with open(SEED, encoding="utf-8") as f:
        lines = f.read().splitlines()
    out: List[Tuple[str, str]] = []
    i = 0
    while i < len(lines):
        if not any(p.match(lines[i]) for p in STARTS):
            i += 1
            continue
        block = [lines[i]]
        i += 1
        depth = _depth(block[0])
        while i < len(lines):
            line = lines[i]
            if any(p.match(line) for p in STARTS[:1]) and depth == 0 and block[-1].strip() != "" and \
                    not block[-1].startswith("from "):
                break  # a new example starts right after this one
            heading = HEADING.match(line.strip())
            if depth == 0 and heading and heading.group(1) in SDK_METHOD_NAMES:
                break
            if depth == 0 and line.strip() and not line.startswith((" ", "\t")) and not CODE.match(line):
                break
            block.append(line)
            depth += _depth(line)
            i += 1
        # The document's last example is cut off mid-statement: keep what compiles.
        complete = True
        while block:
            try:
                compile("\n".join(block), "example", "exec")
                break
            except SyntaxError:
                block.pop()
                complete = False
        code = "\n".join(block).strip() + "\n"
        calls = re.findall(r"(?:ango_sdk|sdk)\.(\w+)\(", code)
        name = calls[0] if calls else "snippet"
        out.append((f"{len(out):02d}_{name}", code))
        if not complete:
            TRUNCATED.add(out[-1][0])
    return out


def _depth(line: str) -> int:
    text = re.sub(r"(\"[^\"]*\"|'[^']*')", "", line)
    return sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")


if __name__ == "__main__":
    for name, code in examples():
        print("=" * 20, name)
        print(code)
