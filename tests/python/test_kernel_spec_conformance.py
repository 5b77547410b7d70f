"""jupyter_kernel_test's protocol conformance suite, run against the `sled`
kernelspec registered in .venv.

Each `code_*` sample below is a KV cell; jupyter_kernel_test sends it and
checks the messages against its message schemas and the expectations noted.
"""

from __future__ import annotations

import jupyter_kernel_test as jkt


class SledKernelTests(jkt.KernelTests):
    kernel_name = "sled"

    # kernel_info_reply.language_info
    language_name = "sled-kv"
    file_extension = ".sledkv"

    # a `stream` on stdout containing "hello, world"
    code_hello_world = "echo hello, world"
    # a `stream` on stderr, and status ok
    code_stderr = "warn careful"

    # complete_reply.matches, compared as sets
    completion_samples = [
        {"text": "sca", "matches": {"scan", "scan_prefix"}},
        {"text": "%res", "matches": {"%reset"}},
        {"text": "ITE", "matches": {"iter"}},
    ]

    # is_complete_reply.status
    complete_code_samples = ["get k", 'insert k "done"', "scan_prefix todo:"]
    incomplete_code_samples = ['insert k "unfinished']
    invalid_code_samples = ["frobnicate k"]

    # an error reply, and exactly one IOPub output: the `error` message
    code_generate_error = "frobnicate k"

    # the cell's last read becomes the execute_result (Out[n]); the history
    # tests replay these, and tail/range/search over them, so keep >= 3
    code_execute_result = [
        {"code": "get k1", "result": "get k1 -> <missing>"},
        {"code": "insert k2 v2\nget k2", "result": 'get k2 -> "v2"'},
        {"code": 'get "a b"', "result": 'get "a b" -> <missing>'},
        {"code": "scan_prefix k2", "mime": "application/vnd.sled-kv+json"},
        {"code": "keys", "mime": "text/html"},
    ]
    # must match exactly one of the codes above (the `unique` search expects 1)
    code_history_pattern = "get k*"
    supported_history_operations = ("tail", "range", "search")

    # rows that are not the cell's last command go out as display_data
    code_display_data = [
        {"code": "keys\necho done", "mime": "text/html"},
        {"code": "iter\necho done", "mime": "text/plain"},
        {"code": "scan_prefix k\necho done", "mime": "application/vnd.sled-kv+json"},
    ]

    # inspect_reply found, with some data
    code_inspect_sample = "get"

    # Not part of this language: it has no pager payloads and no command
    # that clears output, so these two upstream tests do not apply.
    test_pager = None  # type: ignore[assignment]
    test_clear_output = None  # type: ignore[assignment]


class SledIopubWelcomeTests(jkt.IopubWelcomeTests):
    kernel_name = "sled"
    support_iopub_welcome = True
