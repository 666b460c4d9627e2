// Package fakefleet is a FAKE fleet server for the agent's tests: the two
// device endpoints of fleet/api (enrol and report) on a loopback
// httptest.Server, with an in-memory store keyed by report id, queued
// commands, and switches for the faults the agent must survive (down,
// dropped connections, 503 with Retry-After, answers lost after the store
// took the batch). It stands in for the real fleet server (fleet/server)
// only where a test is about the agent's side; the end-to-end test runs
// the agent against the real one (fleet/realfleet).
package fakefleet

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"accesskiosk/fleet/api"
)

// Fault is what the fake does to the next report request.
type Fault int

// Faults.
const (
	OK          Fault = iota
	Drop              // close the connection without an answer
	Unavailable       // 503 with Retry-After
	LoseAnswer        // store the batch, then close the connection (the answer is lost)
)

// Token is the enrolment token the fake accepts (once): shaped like a real
// one (api.CheckEnrolToken), so that it can go into a first-boot file.
var Token = api.EnrolTokenPrefix + strings.Repeat("fake", 13)

// Server is the fake fleet.
type Server struct {
	*httptest.Server
	Token string // the enrolment token it accepts (once)

	mu       sync.Mutex
	fault    func() Fault
	enrolled map[string]string // credential → device id
	byID     map[string]api.Report
	order    []api.Report // in arrival order, first copy only
	dups     int          // reports received again (already stored)
	acks     []api.CommandAck
	commands []api.Command
	batches  int
	tokenUse int
	desired  api.DesiredState
	// capability is what the fake answers; 0 means api.CapabilityVersion.
	capability int
}

// SetCapability makes the fake answer with capability n and, below 5,
// refuse a batch whose receipts carry counted as an unknown field (400),
// like a fleet from before capability 5; below 7, one whose counted
// carries capability 7's counts (downloads, uploads, print_jobs,
// assist_ms), like a fleet from before 7.
func (s *Server) SetCapability(n int) {
	s.mu.Lock()
	s.capability = n
	s.mu.Unlock()
}

// SetDesired sets the desired state every answer carries.
func (s *Server) SetDesired(d api.DesiredState) {
	s.mu.Lock()
	s.desired = d
	s.mu.Unlock()
}

// Start runs the fake on loopback (plain HTTP, or TLS with useTLS) until
// the test ends.
func Start(t testing.TB, useTLS bool) *Server {
	t.Helper()
	s := &Server{Token: Token, enrolled: map[string]string{}, byID: map[string]api.Report{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+api.PathEnrol, s.enrol)
	mux.HandleFunc("POST "+api.PathReport, s.report)
	if useTLS {
		s.Server = httptest.NewTLSServer(mux)
	} else {
		s.Server = httptest.NewServer(mux)
	}
	t.Cleanup(s.Close)
	return s
}

// SetFault makes f decide the fate of each later report request (nil: all OK).
func (s *Server) SetFault(f func() Fault) {
	s.mu.Lock()
	s.fault = f
	s.mu.Unlock()
}

// Queue adds a command for every device's next answer, until acked.
func (s *Server) Queue(c api.Command) {
	s.mu.Lock()
	s.commands = append(s.commands, c)
	s.mu.Unlock()
}

// Reports returns the stored reports in the order they first arrived.
func (s *Server) Reports() []api.Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]api.Report(nil), s.order...)
}

// Duplicates is how many reports arrived again after being stored.
func (s *Server) Duplicates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dups
}

// Acks returns the acknowledgements received.
func (s *Server) Acks() []api.CommandAck {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]api.CommandAck(nil), s.acks...)
}

// Batches is how many report requests were answered.
func (s *Server) Batches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.batches
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(api.Error{Code: code, Message: msg})
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, api.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeErr(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return false
	}
	return true
}

func (s *Server) enrol(w http.ResponseWriter, r *http.Request) {
	var req api.EnrolRequest
	if !decode(w, r, &req) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.Token != s.Token {
		writeErr(w, http.StatusUnauthorized, api.CodeTokenUnknown, "unknown token")
		return
	}
	if s.tokenUse > 0 {
		writeErr(w, http.StatusUnauthorized, api.CodeTokenUsed, "token already used")
		return
	}
	s.tokenUse++
	id := fmt.Sprintf("dev%d", len(s.enrolled)+1)
	cred := id + ".secret"
	s.enrolled[cred] = id
	json.NewEncoder(w).Encode(api.EnrolResponse{DeviceID: id, Credential: cred, Site: "central-library", Capability: api.CapabilityVersion})
}

func hijackClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	fault := OK
	if s.fault != nil {
		fault = s.fault()
	}
	_, authed := s.enrolled[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	s.mu.Unlock()
	switch fault {
	case Drop:
		hijackClose(w)
		return
	case Unavailable:
		w.Header().Set("Retry-After", "60")
		writeErr(w, http.StatusServiceUnavailable, api.CodeInternal, "down for maintenance")
		return
	}
	if !authed {
		writeErr(w, http.StatusUnauthorized, api.CodeUnauthorized, "bad credential")
		return
	}
	var b api.ReportBatch
	if !decode(w, r, &b) {
		return
	}
	if len(b.Reports) > api.MaxReportsPerBatch || len(b.Acks) > api.MaxAcksPerBatch {
		writeErr(w, http.StatusRequestEntityTooLarge, api.CodeTooLarge, "batch too large")
		return
	}
	s.mu.Lock()
	resp := api.ReportResponse{Capability: api.CapabilityVersion, Accepted: []string{}}
	if s.capability != 0 {
		resp.Capability = s.capability
	}
	for _, rep := range b.Reports {
		for _, rc := range rep.Receipts {
			unknown := ""
			switch {
			case rc.Counted != nil && resp.Capability < 5:
				unknown = "counted"
			case rc.Counted != nil && resp.Capability < 7 && rc.Counted.Usage():
				unknown = "downloads"
			}
			if unknown != "" {
				s.mu.Unlock()
				writeErr(w, http.StatusBadRequest, api.CodeBadRequest, `json: unknown field "`+unknown+`"`)
				return
			}
		}
	}
	for _, rep := range b.Reports {
		if _, ok := s.byID[rep.ID]; ok {
			s.dups++
		} else {
			s.byID[rep.ID] = rep
			s.order = append(s.order, rep)
		}
		resp.Accepted = append(resp.Accepted, rep.ID)
	}
	acked := map[string]bool{}
	for _, a := range b.Acks {
		s.acks = append(s.acks, a)
		acked[a.ID] = true
	}
	keep := s.commands[:0]
	for _, c := range s.commands {
		if !acked[c.ID] {
			keep = append(keep, c)
		}
	}
	s.commands = keep
	resp.Commands = append([]api.Command(nil), s.commands...)
	resp.Desired = s.desired
	s.batches++
	s.mu.Unlock()
	if fault == LoseAnswer {
		hijackClose(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}
