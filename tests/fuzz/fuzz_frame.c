/* libFuzzer target: the relay link's frame parser on a byte stream. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "protocol.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame		f;
	struct frame_chunk	c;
	char			err[256];
	size_t			off = 0;
	int			ret;

	/* Consume the input as a stream of frames, as a connection would. */
	while ((ret = frame_parse(data + off, size - off, &f, err,
	    sizeof(err))) == 1) {
		if (f.payload + f.length > data + size)
			__builtin_trap();
		if (f.type == FRAME_UPLOAD_CHUNK &&
		    frame_chunk_decode(&f, &c, err, sizeof(err)) == 0 &&
		    c.data + c.length > data + size)
			__builtin_trap();
		off += FRAME_HEADER_SIZE + f.length;
	}
	if (ret == -1 && memchr(err, '\0', sizeof(err)) == NULL)
		__builtin_trap();
	return 0;
}
