package ipp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/OpenPrinting/goipp"

	"accesskiosk/internal/ipp/ipptest"
)

// hostileServer is a small fake of what is not a printer: something on
// the printer's address that answers HTTP with whatever answer() writes,
// or accepts connections and says nothing.
type hostileServer struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startHostile(t *testing.T, answer func(w io.Writer)) *hostileServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hostileServer{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.mu.Unlock()
			if answer == nil {
				continue // accept, read nothing, say nothing
			}
			go func() {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				io.Copy(io.Discard, io.LimitReader(req.Body, 64<<20))
				answer(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		h.mu.Lock()
		for _, c := range h.conns {
			c.Close()
		}
		h.mu.Unlock()
	})
	return h
}

func (h *hostileServer) uri() string { return "ipp://" + h.ln.Addr().String() + "/ipp/print" }

func httpOK(w io.Writer, contentType string, body []byte) {
	fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", contentType, len(body))
	w.Write(body)
}

func ippAnswer(status goipp.Status, printerAttrs ...goipp.Attribute) []byte {
	m := goipp.NewResponse(goipp.MakeVersion(2, 0), status, 1)
	m.Operation.Add(goipp.MakeAttribute("attributes-charset", goipp.TagCharset, goipp.String("utf-8")))
	m.Operation.Add(goipp.MakeAttribute("attributes-natural-language", goipp.TagLanguage, goipp.String("en")))
	m.Printer = append(m.Printer, printerAttrs...)
	b, _ := m.EncodeBytes()
	return b
}

func TestHostilePrinterAnswers(t *testing.T) {
	random := make([]byte, 5000)
	rand.Read(random)
	for _, tc := range []struct {
		name   string
		answer func(w io.Writer)
		want   error
		text   string
	}{
		{"random bytes", func(w io.Writer) { httpOK(w, "application/ipp", random) }, ErrBadResponse, "printer's answer is not IPP"},
		{"a web page", func(w io.Writer) {
			httpOK(w, "text/html", []byte("<!doctype html><title>Router login</title>"))
		}, ErrBadResponse, `content type "text/html"`},
		{"truncated IPP", func(w io.Writer) {
			b := ippAnswer(goipp.StatusOk, goipp.MakeAttribute("printer-state", goipp.TagEnum, goipp.Integer(3)))
			httpOK(w, "application/ipp", b[:len(b)-4])
		}, ErrBadResponse, "not IPP"},
		{"no printer-state", func(w io.Writer) { httpOK(w, "application/ipp", ippAnswer(goipp.StatusOk)) }, ErrBadResponse, "no printer-state"},
		{"password wanted", func(w io.Writer) {
			io.WriteString(w, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"CUPS\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		}, ErrBadResponse, "wants a password"},
		{"redirect", func(w io.Writer) {
			io.WriteString(w, "HTTP/1.1 307 Temporary Redirect\r\nLocation: https://elsewhere.example/ipp/print\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		}, ErrBadResponse, "printer redirects to https://elsewhere.example/ipp/print"},
		{"endless answer", func(w io.Writer) {
			io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\nConnection: close\r\n\r\n")
			chunk := make([]byte, 64<<10)
			for i := 0; i < (maxResponse/len(chunk))+4; i++ {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, ErrBadResponse, "response longer than"},
		{"IPP error", func(w io.Writer) {
			httpOK(w, "application/ipp", ippAnswer(goipp.StatusErrorInternal))
		}, nil, "server-error-internal-error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startHostile(t, tc.answer)
			p, err := NewPrinter(h.uri(), Options{Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = p.Attributes(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) || !strings.Contains(err.Error(), h.ln.Addr().String()) {
				t.Errorf("err %q: want it to name the printer and say %q", err, tc.text)
			}
			if d := time.Since(start); d > 4*time.Second {
				t.Errorf("took %v: a bad answer must fail at once", d)
			}
			ws := CheckHealth(context.Background(), p)
			if len(ws) != 1 || (ws[0].Code != CodeBadResponse && ws[0].Code != CodeOffline) {
				t.Errorf("CheckHealth: %+v", ws)
			}
		})
	}
}

// A printer that accepts the connection and never answers, or is not
// there, gives an error by the deadline: the printer's own timeout when
// the context has none, the context's when it is sooner.
func TestSilentAndDeadPrinter(t *testing.T) {
	silent := startHostile(t, nil)
	p, err := NewPrinter(silent.uri(), Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = p.Attributes(context.Background())
	if !errors.Is(err, ErrUnreachable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("silent printer: %v, want ErrUnreachable after the deadline", err)
	}
	if d := time.Since(start); d < 2*time.Second || d > 10*time.Second {
		t.Errorf("silent printer: gave up after %v, want about the 2s timeout", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := p.Submit(ctx, ipptest.PDF(3), Ticket{}); !errors.Is(err, ErrUnreachable) {
		t.Errorf("submit to a silent printer: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("submit ignored the context's deadline: %v", d)
	}
	ws := CheckHealth(context.Background(), p)
	if len(ws) != 1 || ws[0].Code != CodeOffline || !strings.Contains(ws[0].Text, silent.ln.Addr().String()) {
		t.Errorf("CheckHealth of a silent printer: %+v", ws)
	}

	// Nothing listening at all.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	dead, _ := NewPrinter("ipp://"+addr+"/ipp/print", Options{Timeout: 5 * time.Second})
	start = time.Now()
	if err := dead.Cancel(context.Background(), 7); !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("dead printer: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("dead printer: %v to fail", d)
	}
}

// oldPrinter is a small fake in front of a real ippeveprinter that makes
// it look like an older printer: IPP/1.1 only (a 2.x request gets
// server-error-version-not-supported) and no Create-Job
// (server-error-operation-not-supported); everything else goes to the
// real printer.
func oldPrinter(t *testing.T, realHost string) (uri string, refused *[]string) {
	t.Helper()
	var mu sync.Mutex
	var log []string
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if len(body) >= 8 {
			version, op := goipp.Version(uint16(body[0])<<8|uint16(body[1])), goipp.Op(uint16(body[2])<<8|uint16(body[3]))
			status := goipp.StatusOk
			switch {
			case version.Major() >= 2:
				status = goipp.StatusErrorVersionNotSupported
			case op == goipp.OpCreateJob:
				status = goipp.StatusErrorOperationNotSupported
			}
			if status != goipp.StatusOk {
				mu.Lock()
				log = append(log, fmt.Sprintf("%s %s", version, op))
				mu.Unlock()
				w.Header().Set("Content-Type", goipp.ContentType)
				w.Write(ippAnswer(status))
				return
			}
		}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, "http://"+realHost+r.URL.Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", goipp.ContentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", goipp.ContentType)
		io.Copy(w, resp.Body)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "ipp://" + ln.Addr().String() + "/ipp/print", &log
}

func TestOldPrinterGetsPrintJobInIPP11(t *testing.T) {
	pr := ipptest.StartPrinter(t, ipptest.PrinterOptions{})
	uri, refused := oldPrinter(t, pr.Host)
	ctx := context.Background()
	p, err := NewPrinter(uri, Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	doc := ipptest.PDF(3)
	js, err := p.Submit(ctx, doc, Ticket{Copies: 2})
	if err != nil {
		t.Fatal(err)
	}
	files := pr.WaitSpool(t, 1)
	got, _ := os.ReadFile(files[0])
	if !bytes.Equal(got, doc) {
		t.Error("the document that reached the printer differs")
	}
	if a := ipptest.JobAttributes(t, pr.URI, js.ID); a["copies"] != "2" || a["job-name"] != DefaultJobName {
		t.Errorf("on the printer: %v", a)
	}
	want := "2.0 Create-Job,1.1 Create-Job"
	if got := strings.Join(*refused, ","); got != want {
		t.Errorf("refused by the old printer: %q, want %q (one 2.0 try, then 1.1 from then on)", got, want)
	}
	if _, err := p.Attributes(ctx); err != nil || len(*refused) != 2 {
		t.Errorf("later requests should go in 1.1 at once: %v, refused %v", err, *refused)
	}
}
