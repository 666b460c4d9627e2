package update

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"

	"accesskiosk/fleet/release/target"
	"accesskiosk/internal/atomicfile"
	"accesskiosk/internal/backoff"
)

// tufFetcher lets go-tuf download metadata through the agent's retrying
// HTTP client, and remembers the last bytes of each role it fetched so a
// signature failure can be told apart from an unknown key.
type tufFetcher struct {
	ctx    context.Context
	client *retryablehttp.Client
	mu     sync.Mutex
	last   map[string][]byte
}

func (f *tufFetcher) DownloadFile(url string, maxLength int64, _ time.Duration) ([]byte, error) {
	req, err := retryablehttp.NewRequestWithContext(f.ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &metadata.ErrDownloadHTTP{StatusCode: resp.StatusCode, URL: url}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxLength+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > maxLength {
		return nil, &metadata.ErrDownloadLengthMismatch{Msg: fmt.Sprintf("%s is longer than %d bytes", url, maxLength)}
	}
	base := url[strings.LastIndex(url, "/")+1:]
	if i := strings.Index(base, "."); i >= 0 {
		parts := strings.Split(base, ".")
		role := parts[len(parts)-2]
		f.mu.Lock()
		f.last[role] = data
		f.mu.Unlock()
	}
	return data, nil
}

func (f *tufFetcher) raw(role string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last[role]
}

// refresh updates the TUF metadata from the repository, starting from the
// newest root this device verified before (or the image's root), and
// returns the updater to look targets up in.
func (u *Updater) refresh(ctx context.Context) (*updater.Updater, error) {
	dir := filepath.Join(u.cfg.Dir, tufDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fail(ReasonLocal, err)
	}
	root := u.cfg.TrustedRoot
	if cached, err := os.ReadFile(filepath.Join(dir, "root.json")); err == nil {
		if _, err := new(metadata.Metadata[metadata.RootType]).FromBytes(cached); err == nil {
			root = cached
		}
	}
	base := strings.TrimSuffix(u.cfg.RepoURL, "/")
	cfg, err := config.New(base+"/metadata", root)
	if err != nil {
		return nil, fail(ReasonLocal, err)
	}
	cfg.RemoteTargetsURL = base + "/targets"
	cfg.LocalMetadataDir = dir
	cfg.LocalTargetsDir = filepath.Join(u.cfg.Dir, downloadsDir)
	f := &tufFetcher{ctx: ctx, client: u.http, last: map[string][]byte{}}
	cfg.Fetcher = f
	up, err := updater.New(cfg)
	if err != nil {
		return nil, failf(ReasonMetadata, "load trusted root: %w", err)
	}
	if err := up.Refresh(); err != nil {
		trusted := func(role string) []string {
			r := up.GetTrustedMetadataSet().Root
			if r == nil || r.Signed.Roles[role] == nil {
				return nil
			}
			return r.Signed.Roles[role].KeyIDs
		}
		return nil, fail(classifyTUF(err, f.raw, trusted), fmt.Errorf("refresh metadata: %w", err))
	}
	return up, nil
}

// download fetches a target into DIR/downloads/SHA256 (resuming a part file
// left by an earlier attempt or an earlier process), then verifies its
// length and every signed hash. It returns the verified file's path. The
// target is streamed to disk, never held in memory.
func (u *Updater) download(ctx context.Context, name string, tf *metadata.TargetFiles) (string, error) {
	sum := tf.Hashes["sha256"]
	if len(sum) != sha256.Size {
		return "", failf(ReasonMetadata, "target %s has no sha256 hash", name)
	}
	hexSum := hex.EncodeToString(sum)
	dir := filepath.Join(u.cfg.Dir, downloadsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fail(ReasonLocal, err)
	}
	final := filepath.Join(dir, hexSum)
	if st, err := os.Stat(final); err == nil && st.Size() == tf.Length {
		return final, nil // verified by an earlier run
	}
	part := final + ".part"
	url := strings.TrimSuffix(u.cfg.RepoURL, "/") + "/targets/" + target.TargetPath(name, hexSum)
	for fresh := false; ; fresh = true {
		if err := u.fetch(ctx, url, part, tf.Length); err != nil {
			return "", err
		}
		u.phase(PhaseVerify)
		err := verifyFile(part, tf, u.hook)
		if err == nil {
			break
		}
		os.Remove(part)
		if fresh || ReasonOf(err) == ReasonLocal {
			return "", err
		}
		// The part file may hold bytes from an interrupted earlier
		// download that did not survive a power cut; fetch it once more
		// from the start before refusing.
		u.log.WithError(err).Warn("downloaded target does not verify; fetching it once more from the start")
	}
	if err := os.Rename(part, final); err != nil {
		return "", fail(ReasonLocal, err)
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return "", fail(ReasonLocal, err)
	}
	return final, nil
}

// maxFetchAttempts bounds how many times one download resumes after its
// connection breaks without making progress.
const maxFetchAttempts = 8

// fetch appends to part until it holds length bytes, with Range requests
// so every attempt resumes where the last stopped.
func (u *Updater) fetch(ctx context.Context, url, part string, length int64) error {
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fail(ReasonLocal, err)
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fail(ReasonLocal, err)
	}
	if have > length {
		if err := f.Truncate(0); err != nil {
			return fail(ReasonLocal, err)
		}
		have, _ = f.Seek(0, io.SeekStart)
	}
	if have > 0 {
		u.resumedFrom = have
	}
	// Attempts that made no progress back off; progress starts afresh.
	stalls := backoff.Backoff{Min: u.cfg.RetryWait, Max: 8 * u.cfg.RetryWait}
	for have < length {
		if err := ctx.Err(); err != nil {
			return fail(ReasonCancelled, err)
		}
		before := have
		have, err = u.fetchOnce(ctx, f, url, have, length)
		if err == nil {
			break
		}
		var e *Error
		if errors.As(err, &e) && e.Reason != ReasonNetwork {
			return err
		}
		if have == before {
			if stalls.Failures()+1 >= maxFetchAttempts {
				return err
			}
			if stalls.Wait(ctx) != nil {
				return fail(ReasonCancelled, ctx.Err())
			}
		} else {
			stalls.Reset()
		}
		u.log.WithError(err).WithField("have", have).Info("download interrupted; resuming")
	}
	if err := f.Sync(); err != nil {
		return fail(ReasonLocal, err)
	}
	return nil
}

// fetchOnce makes one request for bytes have..length-1 and appends what
// arrives. It returns how many bytes the part file holds afterwards.
func (u *Updater) fetchOnce(parent context.Context, f *os.File, url string, have, length int64) (int64, error) {
	// A connection that stops delivering for StallTimeout is dropped and
	// the download resumes on a new one (rural links stall rather than fail).
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	stall := time.AfterFunc(u.cfg.StallTimeout, cancel)
	defer stall.Stop()
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return have, fail(ReasonLocal, err)
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := u.http.Do(req)
	if err != nil {
		if parent.Err() != nil {
			return have, fail(ReasonCancelled, parent.Err())
		}
		return have, fail(ReasonNetwork, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		start, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != have {
			return have, failf(ReasonNetwork, "server answered range %d- with %q", have, resp.Header.Get("Content-Range"))
		}
		if total >= 0 && total != length {
			return have, failf(ReasonLengthMismatch, "server has %d bytes, signed length is %d", total, length)
		}
	case resp.StatusCode == http.StatusOK:
		if have > 0 {
			// The server ignored the range: start again.
			if err := f.Truncate(0); err != nil {
				return have, fail(ReasonLocal, err)
			}
			have = 0
			u.resumedFrom = 0
		}
		if resp.ContentLength >= 0 && resp.ContentLength != length {
			return have, failf(ReasonLengthMismatch, "server sends %d bytes, signed length is %d", resp.ContentLength, length)
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		return have, failf(ReasonLengthMismatch, "server has fewer than %d bytes, signed length is %d", have+1, length)
	case resp.StatusCode == http.StatusNotFound:
		return have, failf(ReasonNotFound, "%s: %s", url, resp.Status)
	default:
		return have, failf(ReasonNetwork, "%s: %s", url, resp.Status)
	}
	if _, err := f.Seek(have, io.SeekStart); err != nil {
		return have, fail(ReasonLocal, err)
	}
	buf := make([]byte, 32<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if have+int64(n) > length {
				return have, failf(ReasonLengthMismatch, "server sends more than the signed %d bytes", length)
			}
			if _, err := f.Write(buf[:n]); err != nil {
				return have, fail(ReasonLocal, err)
			}
			have += int64(n)
			stall.Reset(u.cfg.StallTimeout)
			u.hook("download:chunk")
		}
		if rerr == io.EOF {
			if have < length {
				return have, failf(ReasonNetwork, "connection ended at %d of %d bytes", have, length)
			}
			return have, nil
		}
		if rerr != nil {
			if parent.Err() != nil {
				return have, fail(ReasonCancelled, parent.Err())
			}
			if ctx.Err() != nil {
				rerr = fmt.Errorf("no data for %s: %w", u.cfg.StallTimeout, rerr)
			}
			return have, fail(ReasonNetwork, rerr)
		}
	}
}

func parseContentRange(v string) (start, total int64, ok bool) {
	// "bytes START-END/TOTAL" (TOTAL may be "*")
	v, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(v, "/")
	if !found {
		return 0, 0, false
	}
	s, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return start, total, true
}

// verifyFile checks a file's length and every hash the signed target info
// gives (sha256 and sha512), reading it from disk in a stream.
func verifyFile(name string, tf *metadata.TargetFiles, hook func(string)) error {
	f, err := os.Open(name)
	if err != nil {
		return fail(ReasonLocal, err)
	}
	defer f.Close()
	hashes := map[string]hash.Hash{}
	var ws []io.Writer
	for alg := range tf.Hashes {
		var h hash.Hash
		switch alg {
		case "sha256":
			h = sha256.New()
		case "sha512":
			h = sha512.New()
		default:
			continue
		}
		hashes[alg] = h
		ws = append(ws, h)
	}
	if len(hashes) == 0 {
		return failf(ReasonMetadata, "target has no sha256 or sha512 hash")
	}
	w := io.MultiWriter(ws...)
	buf := make([]byte, 256<<10)
	var n int64
	for {
		m, err := f.Read(buf)
		if m > 0 {
			w.Write(buf[:m])
			n += int64(m)
			hook("verify:chunk")
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(ReasonLocal, err)
		}
	}
	if n != tf.Length {
		return failf(ReasonLengthMismatch, "downloaded %d bytes, signed length is %d", n, tf.Length)
	}
	for alg, h := range hashes {
		if !hmacEqual(h.Sum(nil), tf.Hashes[alg]) {
			return failf(ReasonHashMismatch, "%s of the download differs from the signed one", alg)
		}
	}
	return nil
}

func hmacEqual(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := range a {
		v |= a[i] ^ b[i]
	}
	return v == 0
}
