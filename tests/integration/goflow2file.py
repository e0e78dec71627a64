"""GoFlow2 record files as `replay --write-goflow2` writes them and GoFlow2's file transport
does: each FlowMessage after its length as a protobuf varint. Standard library only; imported
by the integration scripts (interleave.py, kafka_scale.sh)."""


def varint(buf, i):
    """The varint at buf[i]: (its value, the offset after it)."""
    v = shift = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def messages(data):
    """Every message of a file's bytes: (the message with its length prefix, the message)."""
    i = 0
    while i < len(data):
        n, j = varint(data, i)
        yield data[i:j + n], data[j:j + n]
        i = j + n
