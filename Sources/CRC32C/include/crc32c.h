// CRC-32C (Castagnoli): the checksum of every WAL record and snapshot.
// Hardware (SSE4.2 `crc32`) where the CPU has it, a slicing-by-8 table otherwise.
#ifndef SHOAL_CRC32C_H
#define SHOAL_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/// Extends `crc` (0 to start) over `length` bytes at `data`.
uint32_t shoal_crc32c_extend(uint32_t crc, const void *data, size_t length);

/// 1 if the hardware instruction is used, 0 for the table.
int shoal_crc32c_is_hardware(void);
#endif
