// Package storetest opens real fleet stores for tests: SQLite in a temp
// directory, and PostgreSQL from Debian's binaries started in a temp
// directory on 127.0.0.1 and a free port (as the postgres user when the test
// runs as root, since PostgreSQL refuses to run as root).
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/store"
)

// PGBin is where Debian puts the PostgreSQL 15 server binaries.
var PGBin = "/usr/lib/postgresql/15/bin"

// Logger returns a logger that writes into the test log.
func Logger(t testing.TB) *logrus.Logger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	if testing.Verbose() {
		l.SetOutput(os.Stderr)
	}
	l.SetLevel(logrus.WarnLevel)
	return l
}

// SQLite opens a fresh SQLite store in a temp directory, closed at cleanup.
func SQLite(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Config{Dialect: store.SQLite, Path: filepath.Join(t.TempDir(), "fleet.db")}, Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Open opens a fresh store of the dialect.
func Open(t testing.TB, dialect string) *store.Store {
	t.Helper()
	if dialect == store.SQLite {
		return SQLite(t)
	}
	dsn := Postgres(t)
	s, err := store.Open(context.Background(), store.Config{Dialect: store.Postgres, DSN: dsn}, Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Postgres starts a PostgreSQL server for the test and returns the DSN of
// an empty database on it. The server stops at cleanup. Without the
// binaries the test is skipped, unless CI=true, when it fails.
func Postgres(t testing.TB) string {
	t.Helper()
	return startPostgres(t, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=100")
}

// PostgresDurable is Postgres with PostgreSQL's durable defaults (fsync,
// synchronous commit, full-page writes) and room for several replicas'
// connections: what a load test measures against.
func PostgresDurable(t testing.TB) string {
	t.Helper()
	return startPostgres(t, "-c", "max_connections=200")
}

func startPostgres(t testing.TB, settings ...string) string {
	t.Helper()
	initdb := filepath.Join(PGBin, "initdb")
	if _, err := os.Stat(initdb); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL binaries missing (%v): run make deps", err)
		}
		t.Skipf("PostgreSQL binaries missing: %v", err)
	}
	dir, err := os.MkdirTemp("", "fleet-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var asUser []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root and no postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	run := func(args ...string) *exec.Cmd {
		all := append(append([]string(nil), asUser...), args...)
		c := exec.Command(all[0], all[1:]...)
		c.Dir = dir
		return c
	}
	data := filepath.Join(dir, "data")
	if out, err := run(initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--no-instructions").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port := freePort(t)
	logf, _ := os.Create(filepath.Join(dir, "log"))
	srv := run(append([]string{filepath.Join(PGBin, "postgres"), "-D", data, "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-k", dir}, settings...)...)
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	done := make(chan struct{})
	go func() { srv.Wait(); close(done) }()
	t.Cleanup(func() {
		// Fast shutdown of the postmaster itself (runuser does not forward signals).
		if b, err := os.ReadFile(filepath.Join(data, "postmaster.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])); err == nil {
				syscall.Kill(pid, syscall.SIGINT)
			}
		}
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			srv.Process.Kill()
			<-done
		}
		logf.Close()
	})
	pidFiles.Store(port, filepath.Join(data, "postmaster.pid"))
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			break
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Fatalf("postgres exited: %s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres did not answer in 30s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := db.Exec(`CREATE DATABASE fleet`); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/fleet?sslmode=disable", port)
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// pidFiles maps the port of each server Postgres started to its
// postmaster.pid.
var pidFiles sync.Map

// ServerProcesses returns the process ids of the PostgreSQL server behind
// dsn (started by Postgres or PostgresDurable): the postmaster first, then
// its children (backends and helpers).
func ServerProcesses(tb testing.TB, dsn string) []int {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	pf, ok := pidFiles.Load(port)
	if !ok {
		tb.Fatalf("no PostgreSQL started by this test on port %d", port)
	}
	b, err := os.ReadFile(pf.(string))
	if err != nil {
		tb.Fatal(err)
	}
	master, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	out := []int{master}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == master {
			continue
		}
		if f := procStat(pid); len(f) > 1 && f[1] == strconv.Itoa(master) {
			out = append(out, pid)
		}
	}
	return out
}

// procStat returns the fields of /proc/PID/stat after the command name
// (the process state is the first).
func procStat(pid int) []string {
	st, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil
	}
	i := strings.LastIndexByte(string(st), ')')
	if i < 0 || i+2 > len(st) {
		return nil
	}
	return strings.Fields(string(st[i+2:]))
}

// ServerCPU returns the CPU time (user and system) the PostgreSQL server
// behind dsn has used so far: the postmaster, every backend it has reaped
// and every one still running. Benchmarks report it beside their own,
// since the database's work is in another process.
func ServerCPU(tb testing.TB, dsn string) time.Duration {
	tb.Helper()
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	total := time.Duration(0)
	for i, pid := range ServerProcesses(tb, dsn) {
		f := procStat(pid)
		if len(f) < 15 {
			continue
		}
		n := 2 // utime, stime
		if i == 0 {
			n = 4 // and the reaped children's
		}
		for k := 11; k < 11+n; k++ {
			v, _ := strconv.ParseInt(f[k], 10, 64)
			total += time.Duration(v) * tick
		}
	}
	return total
}
