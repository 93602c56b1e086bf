"""Tink's own AesGcmHkdfStreaming (the `tink` package from PyPI) as the peer of the interop tests
in tests/aead/interop_test.cpp. One run executes every job of a manifest, one line each:

    encrypt|decrypt|refuse <key hex> <ciphertext segment size> <derived key size> <associated data hex> <in> <out>

`refuse` is a decryption that must fail (a stream cut or changed). The key is Tink's key value
(HKDF's input key material), turned into a one-key cleartext keyset. A job that fails prints its
line and Tink's error and makes the exit status 1; the other jobs still run, so one run reports
every failure.
"""

import io
import sys

import tink
from tink import cleartext_keyset_handle
from tink import streaming_aead
from tink.proto import aes_gcm_hkdf_streaming_pb2
from tink.proto import common_pb2
from tink.proto import tink_pb2

TYPE_URL = "type.googleapis.com/google.crypto.tink.AesGcmHkdfStreamingKey"


def primitive(key: bytes, segment_size: int, derived_key_size: int) -> streaming_aead.StreamingAead:
    params = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingParams(
        ciphertext_segment_size=segment_size,
        derived_key_size=derived_key_size,
        hkdf_hash_type=common_pb2.SHA256,
    )
    value = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingKey(version=0, params=params, key_value=key)
    keyset = tink_pb2.Keyset(primary_key_id=1)
    k = keyset.key.add()
    k.key_data.type_url = TYPE_URL
    k.key_data.value = value.SerializeToString()
    k.key_data.key_material_type = tink_pb2.KeyData.SYMMETRIC
    k.status = tink_pb2.ENABLED
    k.key_id = 1
    k.output_prefix_type = tink_pb2.RAW
    return cleartext_keyset_handle.from_keyset(keyset).primitive(streaming_aead.StreamingAead)


def run(op: str, key: bytes, segment_size: int, derived_key_size: int, aad: bytes, src: str, dst: str) -> None:
    sa = primitive(key, segment_size, derived_key_size)
    with open(src, "rb") as f:
        data = f.read()
    if op == "encrypt":
        out = io.BytesIO()
        # Tink's stream closes its destination on close; keep the bytes before that.
        out.close = lambda: None  # type: ignore[method-assign]
        with sa.new_encrypting_stream(out, aad) as enc:
            enc.write(data)
        result = out.getvalue()
    elif op == "decrypt":
        with sa.new_decrypting_stream(io.BytesIO(data), aad) as dec:
            result = dec.read()
    else:
        raise ValueError("unknown operation " + op)
    with open(dst, "wb") as f:
        f.write(result)


def main() -> int:
    streaming_aead.register()
    failed = 0
    with open(sys.argv[1], encoding="ascii") as manifest:
        for line in manifest:
            if not line.strip():
                continue
            op, key, seg, dks, aad, src, dst = line.split()
            args = (bytes.fromhex(key), int(seg), int(dks), bytes.fromhex(aad if aad != "-" else ""), src, dst)
            try:
                run("decrypt" if op == "refuse" else op, *args)
            except Exception as e:  # every failure is reported, with its job
                if op != "refuse":
                    print(f"tink {op} failed for {src}: {type(e).__name__}: {e}", file=sys.stderr)
                    failed = 1
                continue
            if op == "refuse":
                print(f"tink decrypted {src}, which it should have refused", file=sys.stderr)
                failed = 1
    return failed


if __name__ == "__main__":
    sys.exit(main())
