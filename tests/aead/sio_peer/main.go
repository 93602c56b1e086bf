// MinIO's own DARE 2.0 implementation (github.com/minio/sio, from the Go module proxy) as the
// peer of the interop tests in tests/aead/interop_test.cpp. One run executes every job of a
// manifest, one line each:
//
//	encrypt|decrypt|refuse aes256-gcm|chacha20-poly1305 <key hex> <in> <out> [<stream nonce hex>]
//
// A stream nonce (sio's Config.Nonce) makes encryption deterministic, for byte-for-byte checks.
// Two more jobs do what MinIO's internal/crypto does with object keys (ObjectKey.Seal/Unseal:
// the key-encryption key HMAC-SHA256(external key, IV || domain || "DAREv2-HMAC-SHA256" ||
// bucket/object), the object key sealed with sio):
//
//	seal-key|unseal-key SSE-C|SSE-S3|SSE-KMS <external key hex> <in> <out> [<stream nonce hex>]
//
// where `in` holds IV (32) || object key (32, seal-key) or sealed key (64, unseal-key) || the
// object's "bucket/object", and `out` gets the sealed key (64) or the object key (32).
// `refuse` is a decryption that must fail (a stream cut or changed). A job that fails prints its
// line and sio's error and makes the exit status 1; the other jobs still run, so one run reports
// every failure.
package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/minio/sio"
)

func run(op, cipher, keyHex, src, dst, nonceHex string) error {
	key, err := hex.DecodeString(keyHex)
	if err != nil {
		return err
	}
	var nonce *[12]byte
	if nonceHex != "" {
		n, err := hex.DecodeString(nonceHex)
		if err != nil || len(n) != 12 {
			return fmt.Errorf("bad stream nonce %q", nonceHex)
		}
		nonce = new([12]byte)
		copy(nonce[:], n)
	}
	if op == "seal-key" || op == "unseal-key" {
		return objectKey(op, cipher, key, src, dst, nonce)
	}
	suite := map[string]byte{"aes256-gcm": sio.AES_256_GCM, "chacha20-poly1305": sio.CHACHA20_POLY1305}
	id, ok := suite[cipher]
	if !ok {
		return fmt.Errorf("unknown cipher %q", cipher)
	}
	cfg := sio.Config{MinVersion: sio.Version20, MaxVersion: sio.Version20, CipherSuites: []byte{id}, Key: key, Nonce: nonce}
	in, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	switch op {
	case "encrypt":
		_, err = sio.Encrypt(&out, bytes.NewReader(in), cfg)
	case "decrypt":
		_, err = sio.Decrypt(&out, bytes.NewReader(in), cfg)
	case "refuse":
		if _, err = sio.Decrypt(&out, bytes.NewReader(in), cfg); err == nil {
			return fmt.Errorf("decrypted a stream it should have refused")
		}
		return nil
	default:
		err = fmt.Errorf("unknown operation %q", op)
	}
	if err != nil {
		return err
	}
	return os.WriteFile(dst, out.Bytes(), 0o600)
}

func objectKey(op, domain string, extKey []byte, src, dst string, nonce *[12]byte) error {
	in, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	size := 32
	if op == "unseal-key" {
		size = 64
	}
	if len(in) < 32+size {
		return fmt.Errorf("%s: %d bytes, too short", src, len(in))
	}
	iv, body, path := in[:32], in[32:32+size], in[32+size:]
	mac := hmac.New(sha256.New, extKey)
	mac.Write(iv)
	mac.Write([]byte(domain))
	mac.Write([]byte("DAREv2-HMAC-SHA256"))
	mac.Write(path)
	kek := mac.Sum(nil)
	if op == "seal-key" {
		var out bytes.Buffer
		cfg := sio.Config{Key: kek, Nonce: nonce, CipherSuites: []byte{sio.AES_256_GCM}}
		if n, err := sio.Encrypt(&out, bytes.NewReader(body), cfg); n != 64 || err != nil {
			return fmt.Errorf("sealed %d bytes: %v", n, err)
		}
		return os.WriteFile(dst, out.Bytes(), 0o600)
	}
	cfg := sio.Config{MinVersion: sio.Version20, Key: kek, CipherSuites: []byte{sio.AES_256_GCM, sio.CHACHA20_POLY1305}}
	key, err := sio.DecryptBuffer(nil, body, cfg)
	if err != nil || len(key) != 32 {
		return fmt.Errorf("the sealed key does not open (MinIO: ErrSecretKeyMismatch): %v", err)
	}
	return os.WriteFile(dst, key, 0o600)
}

func main() {
	manifest, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer manifest.Close()
	failed := 0
	lines := bufio.NewScanner(manifest)
	for lines.Scan() {
		f := strings.Fields(lines.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 5 && len(f) != 6 {
			fmt.Fprintf(os.Stderr, "bad manifest line %q\n", lines.Text())
			failed = 1
			continue
		}
		nonce := ""
		if len(f) == 6 {
			nonce = f[5]
		}
		if err := run(f[0], f[1], f[2], f[3], f[4], nonce); err != nil {
			fmt.Fprintf(os.Stderr, "sio %s (%s) failed for %s: %v\n", f[0], f[1], f[3], err)
			failed = 1
		}
	}
	os.Exit(failed)
}
