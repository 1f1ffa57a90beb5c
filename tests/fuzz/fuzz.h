/*
 * The fuzz targets' entry points.  Each tests/fuzz/fuzz_*.c defines one
 * fuzz_<target>() that takes the bytes as libFuzzer gives them; built with
 * -DDJCAL_LIBFUZZER it also defines LLVMFuzzerTestOneInput calling it
 * (`make fuzz`), and tests/check_fuzz.c #includes all three to replay the
 * seed corpora and the kept regression inputs without clang (`make check`).
 * A static helper of one target is prefixed with its name (fi_, fp_, fc_)
 * so that the three can share one translation unit.
 */
#ifndef DJCAL_FUZZ_H
#define DJCAL_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* One feed body: ingest, recurrence expansion, time zones. */
int	fuzz_ingest(const uint8_t *, size_t);
/* What one client sends on the control socket before it shuts down
 * writing: framing, parsing and every op against a small store. */
int	fuzz_proto(const uint8_t *, size_t);
/* One configuration file. */
int	fuzz_config(const uint8_t *, size_t);

/* Free what a target keeps between inputs (leak checkers). */
void	fuzz_ingest_cleanup(void);
void	fuzz_proto_cleanup(void);
void	fuzz_config_cleanup(void);

#ifdef DJCAL_LIBFUZZER
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
#endif

#endif
