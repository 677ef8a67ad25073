/* Fuzz the signal parser of --kill-child: what it accepts is a real
 * signal, and its name or number parses back to it. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "num.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[64], num[16];
	int sig = 0, back = 0;

	if (size >= sizeof buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (nk_parse_signal(buf, &sig) != 0)
		return 0;
	if (sig < 1 || sig > SIGRTMAX)
		__builtin_trap();
	snprintf(num, sizeof num, "%d", sig);
	if (nk_parse_signal(num, &back) != 0 || back != sig)
		__builtin_trap();
	if (sig < SIGRTMIN && (nk_parse_signal(sigabbrev_np(sig), &back) != 0 || back != sig))
		__builtin_trap();
	return 0;
}
