package applog

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestJSONUnderSystemd(t *testing.T) {
	t.Setenv("JOURNAL_STREAM", "8:1234")
	var buf bytes.Buffer
	l, err := New(&buf, "debug")
	if err != nil {
		t.Fatal(err)
	}
	Component(l, "report").Debug("sent")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %q", buf.String())
	}
	if m["component"] != "report" || m["msg"] != "sent" {
		t.Errorf("got %v", m)
	}
}

func TestTextOnTerminal(t *testing.T) {
	t.Setenv("JOURNAL_STREAM", "")
	t.Setenv("INVOCATION_ID", "")
	var buf bytes.Buffer
	l, err := New(&buf, "")
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("hidden")
	Component(l, "x").Info("shown")
	if s := buf.String(); strings.Contains(s, "hidden") || !strings.Contains(s, "component=x") {
		t.Errorf("got %q", s)
	}
	if _, err := New(&buf, "loud"); err == nil {
		t.Error("bad level accepted")
	}
}
