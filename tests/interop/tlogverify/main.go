// Command tlogverify checks a running kruispunt's audit log with Go's own
// transparency-log code (golang.org/x/mod/sumdb/note and sumdb/tlog), none
// of it kruispunt's: the log's checkpoint is a C2SP signed note, its tree
// is served as C2SP tlog-tiles under /log/.
//
// It verifies the signed checkpoint with the published verifier key, reads
// hash tiles over HTTPS through tlog.TileHashReader (which authenticates
// every tile it hands out against the signed root), and checks inclusion
// proofs of chosen leaves and a consistency proof from an older checkpoint
// to the newest one. Any failure exits non-zero.
//
// usage: tlogverify -url https://host:port -ca ca.pem [-old FILE]
//
//	[-checkpoint FILE] [-token T] [-leaves 0,5,17]
//
//	tlogverify -proof FILE -vkey VKEY
//
// The second form is offline: a person's receipt, a C2SP tlog-proof file
// (c2sp.org/tlog-proof@v1) whose extra data is the canonical audit entry,
// is checked with nothing but the log's published verifier key: the
// checkpoint's signature, then the entry's record hash through the
// inclusion path to the signed root.
//
// -checkpoint takes the checkpoint from a file instead of the server (the
// test feeds it tampered ones); -old is an earlier checkpoint to prove
// consistency from; -token is an auditor's session, with which the entry
// bundles are read and each entry's own hash proven included.
//
// Built offline from Debian's packages:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// tileHeight is fixed by c2sp.org/tlog-tiles: 256 hashes a tile.
const tileHeight = 8

type client struct {
	base  string
	http  *http.Client
	token string
}

func (c *client) get(path string, auth bool) ([]byte, error) {
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		return nil, err
	}
	if auth && c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return body, nil
}

// checkpoint is the parsed text of a verified tlog-checkpoint note.
type checkpoint struct {
	origin string
	tree   tlog.Tree
}

// openCheckpoint verifies msg with the verifier key and parses its three
// lines by hand (x/mod 0.7.0 has no C2SP checkpoint parser).
func openCheckpoint(msg []byte, vkey string) (*checkpoint, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("verifier key: %v", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("checkpoint signature: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[3] != "" {
		return nil, errors.New("checkpoint: not three lines")
	}
	if lines[0] != v.Name() {
		return nil, fmt.Errorf("checkpoint origin %q is not the key's name %q", lines[0], v.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return nil, fmt.Errorf("checkpoint: bad tree size %q", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return nil, fmt.Errorf("checkpoint: bad root hash %q", lines[2])
	}
	cp := &checkpoint{origin: lines[0], tree: tlog.Tree{N: size}}
	copy(cp.tree.Hash[:], root)
	return cp, nil
}

// tileReader fetches C2SP tiles. x/mod names them tile/<H>/<L>/<N>; C2SP
// drops the height, which is always 8.
type tileReader struct{ c *client }

func (r tileReader) Height() int { return tileHeight }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		if t.H != tileHeight || t.L < 0 {
			return nil, fmt.Errorf("unexpected tile %v", t)
		}
		path := "/log/tile/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", tileHeight))
		data, err := r.c.get(path, false)
		if err != nil {
			return nil, err
		}
		if len(data) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("%s: %d bytes, want %d", path, len(data), t.W*tlog.HashSize)
		}
		out[i] = data
	}
	return out, nil
}

func (r tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

// checkInclusion proves leaf n in cp's tree from tiles, for the leaf hash
// the JSON proof API gives: the tile proof must end at the signed root.
func checkInclusion(c *client, cp *checkpoint, hr tlog.HashReader, n int64) error {
	body, err := c.get(fmt.Sprintf("/api/v1/audit/proof/inclusion?seq=%d&tree_size=%d", n, cp.tree.N), false)
	if err != nil {
		return err
	}
	var j struct {
		LeafHash string `json:"leaf_hash"`
	}
	if err := json.Unmarshal(body, &j); err != nil {
		return err
	}
	var leaf tlog.Hash
	b, err := hex.DecodeString(j.LeafHash)
	if err != nil || len(b) != tlog.HashSize {
		return fmt.Errorf("leaf hash %q is no SHA-256 in hex", j.LeafHash)
	}
	copy(leaf[:], b)
	return proveLeaf(cp, hr, n, leaf)
}

func proveLeaf(cp *checkpoint, hr tlog.HashReader, n int64, leaf tlog.Hash) error {
	p, err := tlog.ProveRecord(cp.tree.N, n, hr)
	if err != nil {
		return fmt.Errorf("prove leaf %d: %v", n, err)
	}
	if err := tlog.CheckRecord(p, cp.tree.N, cp.tree.Hash, n, leaf); err != nil {
		return fmt.Errorf("leaf %d not in the signed tree: %v", n, err)
	}
	return nil
}

// checkBundle reads the entry bundle holding leaf n (an auditor's) and
// proves each entry's own record hash included in the signed tree.
func checkBundle(c *client, cp *checkpoint, hr tlog.HashReader, n int64) (int, error) {
	// TileForIndex gives the narrowest tile holding n: widen it to the
	// whole bundle, or as much of it as the signed tree has.
	t := tlog.TileForIndex(tileHeight, tlog.StoredHashIndex(0, n))
	t.W = 1 << tileHeight
	if end := (t.N + 1) << tileHeight; end > cp.tree.N {
		t.W = int(cp.tree.N - t.N<<tileHeight)
	}
	path := "/log/tile/entries/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/0/", tileHeight))
	data, err := c.get(path, true)
	if err != nil {
		return 0, err
	}
	for i := 0; i < t.W; i++ {
		if len(data) < 2 {
			return i, fmt.Errorf("%s: short bundle", path)
		}
		l := int(data[0])<<8 | int(data[1])
		if len(data) < 2+l {
			return i, fmt.Errorf("%s: short entry", path)
		}
		entry := data[2 : 2+l]
		if !bytes.HasPrefix(entry, []byte("kruispunt-audit-v1\n")) {
			return i, fmt.Errorf("%s: entry %d is no audit entry", path, i)
		}
		if err := proveLeaf(cp, hr, t.N<<tileHeight+int64(i), tlog.RecordHash(entry)); err != nil {
			return i, err
		}
		data = data[2+l:]
	}
	if len(data) != 0 {
		return t.W, fmt.Errorf("%s: bytes after the last entry", path)
	}
	return t.W, nil
}

// checkProofFile verifies a tlog-proof file: parsed by hand (x/mod 0.7.0
// knows no tlog-proof), checked with note.Open and tlog.CheckRecord.
func checkProofFile(data []byte, vkey string) error {
	const header = "c2sp.org/tlog-proof@v1\n"
	if !bytes.HasPrefix(data, []byte(header)) {
		return errors.New("proof: not a c2sp.org/tlog-proof@v1 file")
	}
	rest := string(data[len(header):])
	next := func() (string, error) {
		i := strings.IndexByte(rest, '\n')
		if i < 0 {
			return "", errors.New("proof: truncated")
		}
		line := rest[:i]
		rest = rest[i+1:]
		return line, nil
	}
	line, err := next()
	if err != nil {
		return err
	}
	var entry []byte
	if strings.HasPrefix(line, "extra ") {
		if entry, err = base64.StdEncoding.DecodeString(line[6:]); err != nil {
			return fmt.Errorf("proof: extra is no base64: %v", err)
		}
		if line, err = next(); err != nil {
			return err
		}
	}
	if entry == nil {
		return errors.New("proof: no entry (extra) to check")
	}
	if !strings.HasPrefix(line, "index ") {
		return errors.New("proof: no index line")
	}
	index, err := strconv.ParseInt(line[6:], 10, 64)
	if err != nil || index < 0 || strconv.FormatInt(index, 10) != line[6:] {
		return fmt.Errorf("proof: bad index %q", line[6:])
	}
	var path tlog.RecordProof
	for {
		if line, err = next(); err != nil {
			return err
		}
		if line == "" {
			break
		}
		h, err := base64.StdEncoding.DecodeString(line)
		if err != nil || len(h) != tlog.HashSize || len(path) == 63 {
			return fmt.Errorf("proof: bad hash line %q", line)
		}
		var hash tlog.Hash
		copy(hash[:], h)
		path = append(path, hash)
	}
	cp, err := openCheckpoint([]byte(rest), vkey)
	if err != nil {
		return err
	}
	if index >= cp.tree.N {
		return fmt.Errorf("proof: index %d beyond the tree of %d", index, cp.tree.N)
	}
	if err := tlog.CheckRecord(path, cp.tree.N, cp.tree.Hash, index, tlog.RecordHash(entry)); err != nil {
		return fmt.Errorf("proof: the entry is not in the signed tree: %v", err)
	}
	fmt.Printf("receipt verified: entry %d is in %s's tree of %d leaves\n", index, cp.origin, cp.tree.N)
	return nil
}

func run() error {
	url := flag.String("url", "", "the log's base URL (https://host:port)")
	ca := flag.String("ca", "", "PEM file of the CA that signed the server's certificate")
	cpFile := flag.String("checkpoint", "", "checkpoint note from this file instead of the server")
	oldFile := flag.String("old", "", "an earlier checkpoint note: prove the newest consistent with it")
	token := flag.String("token", "", "an auditor's session token: check the entry bundles too")
	leaves := flag.String("leaves", "0", "comma-separated leaf indexes to prove included")
	proofFile := flag.String("proof", "", "a tlog-proof file to check offline (with -vkey)")
	vkeyFlag := flag.String("vkey", "", "the log's verifier key, for -proof")
	flag.Parse()
	if *proofFile != "" {
		data, err := os.ReadFile(*proofFile)
		if err != nil {
			return err
		}
		return checkProofFile(data, *vkeyFlag)
	}
	if *url == "" || *ca == "" {
		return errors.New("usage: tlogverify -url URL -ca FILE [-checkpoint FILE] [-old FILE] [-token T] [-leaves N,...]")
	}
	pem, err := os.ReadFile(*ca)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return errors.New("no certificate in " + *ca)
	}
	c := &client{base: strings.TrimRight(*url, "/"), token: *token, http: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}}

	vkeyText, err := c.get("/log/vkey", false)
	if err != nil {
		return err
	}
	vkey := strings.TrimSpace(string(vkeyText))
	var msg []byte
	if *cpFile != "" {
		msg, err = os.ReadFile(*cpFile)
	} else {
		msg, err = c.get("/log/checkpoint", false)
	}
	if err != nil {
		return err
	}
	cp, err := openCheckpoint(msg, vkey)
	if err != nil {
		return err
	}
	fmt.Printf("checkpoint verified: %s, %d leaves, root %s\n", cp.origin, cp.tree.N, cp.tree.Hash)

	if cp.tree.N == 0 {
		return errors.New("the log is empty: nothing to prove")
	}
	hr := tlog.TileHashReader(cp.tree, tileReader{c})
	// Recomputing the root from tiles: TileHashReader must agree with the
	// signed one before it hands out a single hash.
	root, err := tlog.TreeHash(cp.tree.N, hr)
	if err != nil {
		return fmt.Errorf("tree hash from tiles: %v", err)
	}
	if root != cp.tree.Hash {
		return fmt.Errorf("tiles give root %s, the checkpoint signs %s", root, cp.tree.Hash)
	}
	for _, s := range strings.Split(*leaves, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n < 0 || n >= cp.tree.N {
			return fmt.Errorf("leaf %q not in a tree of %d", s, cp.tree.N)
		}
		if err := checkInclusion(c, cp, hr, n); err != nil {
			return err
		}
		fmt.Printf("leaf %d included\n", n)
		if *token != "" {
			k, err := checkBundle(c, cp, hr, n)
			if err != nil {
				return err
			}
			fmt.Printf("entry bundle of leaf %d: %d entries hash into the signed tree\n", n, k)
		}
	}

	if *oldFile != "" {
		old, err := os.ReadFile(*oldFile)
		if err != nil {
			return err
		}
		ocp, err := openCheckpoint(old, vkey)
		if err != nil {
			return fmt.Errorf("old %v", err)
		}
		if ocp.tree.N > cp.tree.N {
			return fmt.Errorf("old checkpoint (%d) is larger than the newest (%d)", ocp.tree.N, cp.tree.N)
		}
		if ocp.tree.N == 0 {
			return errors.New("old checkpoint: an empty tree proves nothing")
		}
		p, err := tlog.ProveTree(cp.tree.N, ocp.tree.N, hr)
		if err != nil {
			return fmt.Errorf("consistency proof: %v", err)
		}
		if err := tlog.CheckTree(p, cp.tree.N, cp.tree.Hash, ocp.tree.N, ocp.tree.Hash); err != nil {
			return fmt.Errorf("tree of %d is not a prefix of the tree of %d: %v", ocp.tree.N, cp.tree.N, err)
		}
		fmt.Printf("consistent: %d -> %d\n", ocp.tree.N, cp.tree.N)
	}
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tlogverify:", err)
		os.Exit(1)
	}
}
