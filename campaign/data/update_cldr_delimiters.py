"""Regenerate cldr-delimiters.json: the quotation marks of every CLDR locale with a two-letter code.

Babel ships CLDR's names, scripts, directions and list patterns but not its `delimiters`
(quotation marks), so this file copies them from CLDR's own JSON release, the npm package
`cldr-misc-full` (Unicode-3.0 licence):

    npm pack cldr-misc-full && tar xzf cldr-misc-full-*.tgz
    python campaign/data/update_cldr_delimiters.py package/main
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).with_name("cldr-delimiters.json")


def main(main_dir: Path) -> None:
    version = json.loads((main_dir.parent / "package.json").read_text())["version"]
    marks: dict[str, list[str]] = {}
    for folder in sorted(main_dir.iterdir()):
        if len(folder.name) != 2 or not (folder / "delimiters.json").is_file():
            continue
        data = json.loads((folder / "delimiters.json").read_text(encoding="utf-8"))["main"][folder.name]["delimiters"]
        marks[folder.name] = [data["quotationStart"], data["quotationEnd"],
                              data["alternateQuotationStart"], data["alternateQuotationEnd"]]
    payload = {"source": f"CLDR {version} (npm cldr-misc-full), main/<lang>/delimiters.json; Unicode-3.0 licence",
               "fields": ["quotationStart", "quotationEnd", "alternateQuotationStart", "alternateQuotationEnd"],
               "delimiters": marks}
    OUT.write_text(json.dumps(payload, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{len(marks)} locales written to {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
