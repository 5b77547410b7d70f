/*
 * A stand-in for Windows' bcryptprimitives.dll, for the tests only: it lets
 * wine 8 (Debian 12's) run programs built by a current Rust for
 * x86_64-pc-windows-gnu. Rust's standard library takes its random bytes
 * from ProcessPrng in bcryptprimitives.dll (Windows 10 and later have it);
 * wine 8 has no such DLL, so such a program does not start under it.
 *
 * This ProcessPrng asks advapi32's RtlGenRandom (exported as
 * SystemFunction036, which wine has) for the bytes instead. The tests build
 * it with `x86_64-w64-mingw32-gcc -shared` and put it next to the program
 * in a scratch install only; no wheel carries it, and on Windows the
 * system's own DLL is used.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
