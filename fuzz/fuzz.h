/* Fuzz targets for the parsers of untrusted input. Each is built as a
 * libFuzzer binary by `make fuzz` and replayed over fuzz/corpus/<name>/ by
 * the ordinary test suite (fuzz_replay). A target aborts on any broken
 * invariant, so the fuzzer reports it as a crash. */
#ifndef KP_FUZZ_H
#define KP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int fuzz_ids(const uint8_t *data, size_t size);
int fuzz_json(const uint8_t *data, size_t size);
int fuzz_router(const uint8_t *data, size_t size);
int fuzz_audit(const uint8_t *data, size_t size);
int fuzz_ndjson(const uint8_t *data, size_t size);
int fuzz_import(const uint8_t *data, size_t size);
int fuzz_tile(const uint8_t *data, size_t size);
int fuzz_paths(const uint8_t *data, size_t size);
int fuzz_backup(const uint8_t *data, size_t size);

#endif
