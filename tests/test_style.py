#!/usr/bin/python3
"""The C sources follow PETSc's .clang-format (the project root's .clang-format): clang-format 14,
Debian 12's, changes nothing in src/, include/, tests/ and bench/ (`make style` applies it)."""
import os
import re
import shutil
import subprocess

from common import ROOT, check, done, skip

files = subprocess.run(["git", "ls-files", "src", "include", "tests", "bench"], capture_output=True, text=True, cwd=ROOT).stdout.split()
files = [f for f in files if f.endswith((".c", ".h"))]
cf = shutil.which("clang-format")
check(cf is not None, "clang-format is installed (scripts/install-deps.sh installs it)")
if cf:
    ver = subprocess.run([cf, "--version"], capture_output=True, text=True).stdout
    major = re.search(r"version (\d+)", ver)
    if not major or major.group(1) != "14":
        skip("C style", f"clang-format {major.group(1) if major else '?'} is not Debian 12's 14 (versions format differently)")
    else:
        changed = []
        for f in files:
            p = os.path.join(ROOT, f)
            out = subprocess.run([cf, "--style=file", p], capture_output=True, text=True, cwd=ROOT).stdout
            if out != open(p).read():
                changed.append(f)
        check(len(files) > 20 and not changed, f"clang-format leaves all {len(files)} C files as they are", ", ".join(changed[:10]))
        # the check can fail: a file with a line out of style is found
        bad = subprocess.run([cf, "--style=file", "--assume-filename=" + os.path.join(ROOT, "src", "x.c")], input="int  f( int a ){return a;}\n",
                             capture_output=True, text=True, cwd=ROOT).stdout
        check(bad != "int  f( int a ){return a;}\n", "a line out of style is changed by clang-format (the check can fail)")
done()
