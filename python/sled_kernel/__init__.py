"""The Python half of sled-kernel's wheel.

The kernel itself is the native `sled-kernel` program that the wheel puts in
the environment's bin/ and that the `sled` kernelspec starts. This package
only carries what Python tools look up by name: `sled_kernel.lexer`, the
Pygments lexer for sled-kv cells (nbconvert finds it through the
`pygments.lexers` entry point).
"""
