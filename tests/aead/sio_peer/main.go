// MinIO's own DARE 2.0 implementation (github.com/minio/sio, from the Go module proxy) as the
// peer of the interop tests in tests/aead/interop_test.cpp. One run executes every job of a
// manifest, one line each:
//
//	encrypt|decrypt|refuse aes256-gcm|chacha20-poly1305 <key hex> <in> <out> [<stream nonce hex>]
//
// A stream nonce (sio's Config.Nonce) makes encryption deterministic, for byte-for-byte checks.
// `refuse` is a decryption that must fail (a stream cut or changed). A job that fails prints its
// line and sio's error and makes the exit status 1; the other jobs still run, so one run reports
// every failure.
package main

import (
	"bufio"
	"bytes"
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
