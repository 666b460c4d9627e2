package volunteer

import (
	"bytes"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"accesskiosk/internal/confile"
	"accesskiosk/kiosk/bus"
)

// fakeClock is a settable clock for Gate.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock(tb testing.TB) *fakeClock {
	tb.Helper()
	return &fakeClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
}

// cheapHash is a real argon2id hash of pin with tiny parameters, so lockout
// tests can make many attempts quickly. Production hashes use HashPIN.
func cheapHash(tb testing.TB, pin string) string {
	tb.Helper()
	h := PINHash{MemoryKiB: 64, Time: 1, Threads: 1, Salt: []byte("0123456789abcdef")}
	h.Key = h.derive(pin, keyLen)
	return h.String()
}

func newGate(tb testing.TB, cfg Config, clk *fakeClock) *Gate {
	tb.Helper()
	g, err := NewGate(cfg, clk.Now)
	if err != nil {
		tb.Fatalf("NewGate: %v", err)
	}
	return g
}

func TestHashPINRoundTrip(t *testing.T) {
	s, err := HashPIN("2580", bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("HashPIN = %q, want the PHC argon2id form with the default parameters", s)
	}
	h, err := ParsePINHash(s)
	if err != nil {
		t.Fatalf("ParsePINHash(HashPIN) = %v", err)
	}
	if got := h.String(); got != s {
		t.Errorf("String() = %q, want %q", got, s)
	}
	for _, tc := range []struct {
		pin  string
		want bool
	}{{"2580", true}, {"2581", false}, {"258", false}, {"25800", false}, {"", false}, {"0852", false}} {
		if got := h.Match(tc.pin); got != tc.want {
			t.Errorf("Match(%q) = %v, want %v", tc.pin, got, tc.want)
		}
	}
	// Two hashes of one PIN differ (fresh salt each time).
	a, _ := HashPIN("2580", nil)
	b, _ := HashPIN("2580", nil)
	if a == b {
		t.Errorf("two hashes of the same PIN are equal: salt is not random")
	}
}

func TestCheckNewPIN(t *testing.T) {
	for _, tc := range []struct {
		pin string
		ok  bool
	}{
		{"2580", true}, {"40721", true}, {"902813475610", true},
		{"123", false}, {"1234567890123", false}, {"12a4", false}, {" 2580", false},
		{"0000", false}, {"1234", false}, {"4321", false}, {"8901", false}, {"2109", false},
	} {
		err := CheckNewPIN(tc.pin)
		if got := err == nil; got != tc.ok {
			t.Errorf("CheckNewPIN(%q) = %v, want ok=%v", tc.pin, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrBadPIN) {
			t.Errorf("CheckNewPIN(%q) = %v, want ErrBadPIN", tc.pin, err)
		}
	}
}

func TestParsePINHashRefuses(t *testing.T) {
	good := cheapHash(t, "2580")
	parts := strings.Split(good, "$")
	join := func(p ...string) string { return strings.Join(p, "$") }
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "not an argon2id hash"},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234", "not an argon2id hash"},
		{"argon2i", join("", "argon2i", parts[2], parts[3], parts[4], parts[5]), "only argon2id"},
		{"version", join("", "argon2id", "v=16", parts[3], parts[4], parts[5]), "want v=19"},
		{"huge memory", join("", "argon2id", parts[2], "m=4194304,t=2,p=1", parts[4], parts[5]), "m=4194304"},
		{"many passes", join("", "argon2id", parts[2], "m=64,t=99,p=1", parts[4], parts[5]), "t=99"},
		{"threads", join("", "argon2id", parts[2], "m=640,t=1,p=64", parts[4], parts[5]), "p=64"},
		{"missing p", join("", "argon2id", parts[2], "m=64,t=1", parts[4], parts[5]), "three parameters"},
		{"unknown param", join("", "argon2id", parts[2], "m=64,t=1,p=1,x=2", parts[4], parts[5]), "unknown parameter"},
		{"bad salt", join("", "argon2id", parts[2], parts[3], "!!", parts[5]), "salt"},
		{"short key", join("", "argon2id", parts[2], parts[3], parts[4], "AAAA"), "key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePINHash(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParsePINHash(%q) = %v, want an error containing %q", tc.in, err, tc.want)
			}
		})
	}
}

// TestMatchAlwaysDerives proves the timing-safe property structurally: every
// entry, whatever its length or content, costs one full argon2id derivation
// (argon2 allocates its m KiB of memory blocks per derivation), and the keys
// are compared with crypto/subtle. A short-circuit on length or format, the
// usual timing leak, would allocate almost nothing for those entries.
func TestMatchAlwaysDerives(t *testing.T) {
	h, err := ParsePINHash(cheapHash(t, "2580"))
	if err != nil {
		t.Fatal(err)
	}
	h.MemoryKiB = 4096 // 4 MiB per derivation: far above any other allocation here
	h.Key = h.derive("2580", keyLen)
	for _, entry := range []string{"2580", "2581", "9580", "", "1", "abcd", strings.Repeat("9", 200), "2580\x00"} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		got := h.Match(entry)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc < 4096*1024 {
			t.Errorf("Match(%q) allocated %d bytes: want a full derivation (>= %d)", entry, alloc, 4096*1024)
		}
		if want := entry == "2580"; got != want {
			t.Errorf("Match(%q) = %v, want %v", entry, got, want)
		}
	}
}

func TestGateWrongPINAndLockout(t *testing.T) {
	clk := newClock(t)
	cfg := DefaultConfig()
	cfg.PINHash = cheapHash(t, "2580")
	cfg.MaxFailures = 3
	cfg.Lockout = 5 * time.Minute
	cfg.MaxLockout = 15 * time.Minute
	g := newGate(t, cfg, clk)

	steps := []struct {
		advance  time.Duration
		entry    string
		wantErr  error
		wantLeft int // AttemptsLeft after
		wantMins int // State().Minutes() after
	}{
		{0, "1111", ErrWrong, 2, 0},
		{0, "2581", ErrWrong, 1, 0},
		{0, "0000", ErrLocked, 0, 5}, // third wrong: locked 5 min
		{0, "2580", ErrLocked, 0, 5}, // even the right PIN is not looked at while locked
		{4 * time.Minute, "2580", ErrLocked, 0, 1},
		{61 * time.Second, "1111", ErrWrong, 2, 0}, // lock expired: fresh attempts
		{0, "1112", ErrWrong, 1, 0},
		{0, "1113", ErrLocked, 0, 10}, // second lockout doubles
		{10 * time.Minute, "1", ErrWrong, 2, 0},
		{0, "2", ErrWrong, 1, 0},
		{0, "3", ErrLocked, 0, 15},            // would be 20: bounded by max_lockout
		{15 * time.Minute, "2580", nil, 3, 0}, // right PIN resets everything
		{0, "1", ErrWrong, 2, 0},
		{0, "2", ErrWrong, 1, 0},
		{0, "3", ErrLocked, 0, 5}, // back to the first lockout's length
	}
	for i, s := range steps {
		clk.Add(s.advance)
		m, err := g.Unlock(s.entry)
		if !errors.Is(err, s.wantErr) || (err == nil) != (s.wantErr == nil) {
			t.Fatalf("step %d: Unlock(%q) = %q, %v; want %v", i, s.entry, m, err, s.wantErr)
		}
		if err == nil && m != MethodPIN {
			t.Errorf("step %d: method = %q, want pin", i, m)
		}
		st := g.State()
		if st.AttemptsLeft != s.wantLeft || st.Minutes() != s.wantMins || st.Locked != (s.wantMins > 0) {
			t.Errorf("step %d: State = %+v (Minutes %d), want AttemptsLeft %d, Minutes %d", i, st, st.Minutes(), s.wantLeft, s.wantMins)
		}
	}
}

func TestGateLockoutsForgetAfterQuietDay(t *testing.T) {
	clk := newClock(t)
	cfg := Config{PINHash: cheapHash(t, "2580"), MaxFailures: 1, Lockout: time.Minute, MaxLockout: time.Hour}
	g := newGate(t, cfg, clk)
	want := []int{1, 2, 4, 8}
	for i, w := range want {
		if _, err := g.Unlock("0"); !errors.Is(err, ErrLocked) {
			t.Fatalf("attempt %d: %v, want ErrLocked", i, err)
		}
		if got := g.State().Minutes(); got != w {
			t.Errorf("lockout %d: %d minutes, want %d", i, got, w)
		}
		clk.Add(time.Duration(w) * time.Minute)
	}
	clk.Add(25 * time.Hour)
	g.Unlock("0")
	if got := g.State().Minutes(); got != 1 {
		t.Errorf("after a quiet day: locked %d minutes, want 1 (doubling forgotten)", got)
	}
}

func TestGateOneTimeCodes(t *testing.T) {
	clk := newClock(t)
	g := newGate(t, Config{}, clk) // no PIN: codes only
	if _, err := g.Unlock("12345678"); !errors.Is(err, ErrNoUnlock) {
		t.Fatalf("Unlock with nothing configured = %v, want ErrNoUnlock", err)
	}
	for _, tc := range []struct {
		code string
		ttl  time.Duration
	}{{"1234567", time.Minute}, {"123456789", time.Minute}, {"1234567a", time.Minute}, {"12345678", 0}, {"12345678", 16 * time.Minute}} {
		if err := g.AddCode(tc.code, tc.ttl); err == nil {
			t.Errorf("AddCode(%q, %v) accepted", tc.code, tc.ttl)
		}
	}
	code, err := NewCode(nil)
	if err != nil || CheckCode(code) != nil {
		t.Fatalf("NewCode = %q, %v", code, err)
	}
	if err := g.AddCode(code, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := g.State().Codes; got != 1 {
		t.Errorf("State().Codes = %d, want 1", got)
	}
	if m, err := g.Unlock(code); err != nil || m != MethodCode {
		t.Fatalf("Unlock(code) = %q, %v; want code, nil", m, err)
	}
	if _, err := g.Unlock(code); !errors.Is(err, ErrNoUnlock) {
		t.Errorf("second use of a code = %v, want refused (single use)", err)
	}

	// Expiry.
	g.AddCode("11112222", 2*time.Minute)
	g.AddCode("33334444", 10*time.Minute)
	clk.Add(2 * time.Minute)
	if _, err := g.Unlock("11112222"); !errors.Is(err, ErrWrong) {
		t.Errorf("expired code = %v, want ErrWrong", err)
	}
	if m, err := g.Unlock("33334444"); err != nil || m != MethodCode {
		t.Errorf("live code = %q, %v", m, err)
	}

	// At most maxCodes live: the oldest goes.
	for i := range maxCodes + 1 {
		g.AddCode(strings.Repeat(string(rune('1'+i)), CodeLen), MaxCodeTTL)
	}
	if got := g.State().Codes; got != maxCodes {
		t.Errorf("live codes = %d, want %d", got, maxCodes)
	}
	if _, err := g.Unlock("11111111"); !errors.Is(err, ErrWrong) {
		t.Errorf("oldest code still works: %v", err)
	}
}

func TestGateCodeAndPINShareLockout(t *testing.T) {
	clk := newClock(t)
	g := newGate(t, Config{PINHash: cheapHash(t, "2580"), MaxFailures: 2}, clk)
	g.AddCode("87654321", time.Minute)
	g.Unlock("87654320")
	if _, err := g.Unlock("2581"); !errors.Is(err, ErrLocked) {
		t.Fatalf("wrong code then wrong PIN = %v, want ErrLocked", err)
	}
	if _, err := g.Unlock("87654321"); !errors.Is(err, ErrLocked) {
		t.Errorf("valid code while locked = %v, want ErrLocked", err)
	}
	clk.Add(DefaultLockout)
	if _, err := g.Unlock("87654321"); err == nil {
		t.Errorf("code outlived its minute while locked")
	}
}

func TestGateConcurrentCodeUsedOnce(t *testing.T) {
	clk := newClock(t)
	g := newGate(t, Config{MaxFailures: 20}, clk)
	g.AddCode("24682468", time.Minute)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := g.Unlock("24682468"); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("%d unlocks with one code, want 1", ok)
	}
}

func TestConfigValidate(t *testing.T) {
	good := cheapHash(t, "2580")
	for _, tc := range []struct {
		name, yaml string
		idle       time.Duration
		want       string // "" for valid; else "LINE: KEY: fragment"
	}{
		{"defaults", "volunteer: {}\n", 0, ""},
		{"full", "volunteer:\n  pin_hash: '" + good + "'\n  assisted_idle_timeout: 30m\n  max_failures: 4\n  lockout: 2m\n  max_lockout: 30m\n  categories:\n    - id: council_tax\n      label: Council tax\n      guide: pay-council-tax\n      translations: {cy: Treth gyngor}\n", 5 * time.Minute, ""},
		{"bad hash", "volunteer:\n  pin_hash: '2580'\n", 0, ":2: volunteer.pin_hash: not an argon2id hash"},
		{"idle too long", "volunteer:\n  assisted_idle_timeout: 3h\n", 0, ":2: volunteer.assisted_idle_timeout: 3h0m0s is out of range"},
		{"idle too short", "volunteer:\n  assisted_idle_timeout: 10s\n", 0, ":2: volunteer.assisted_idle_timeout: 10s is out of range"},
		{"idle below session", "volunteer:\n  assisted_idle_timeout: 5m\n", 10 * time.Minute, ":2: volunteer.assisted_idle_timeout: 5m0s is shorter than session.idle_timeout"},
		{"idle not a duration", "volunteer:\n  assisted_idle_timeout: forever\n", 0, ":2: volunteer.assisted_idle_timeout:"},
		{"failures", "volunteer:\n  max_failures: 50\n", 0, ":2: volunteer.max_failures: 50 is out of range"},
		{"negative lockout", "volunteer:\n  lockout: -1m\n", 0, ":2: volunteer.lockout:"},
		{"max below lockout", "volunteer:\n  lockout: 10m\n  max_lockout: 5m\n", 0, ":3: volunteer.max_lockout: 5m0s is shorter than lockout"},
		{"unknown key", "volunteer:\n  pin: 2580\n", 0, ":2: volunteer.pin:"},
		{"no id", "volunteer:\n  categories:\n    - label: Tax\n", 0, ":3: volunteer.categories[0].id: each category needs an id"},
		{"free-text id", "volunteer:\n  categories:\n    - id: Council Tax!\n      label: Tax\n", 0, ":3: volunteer.categories[0].id: \"Council Tax!\" is not an identifier"},
		{"url id", "volunteer:\n  categories:\n    - id: https://evil.example/x\n      label: Tax\n", 0, "volunteer.categories[0].id: \"https://evil.example/x\" is not an identifier"},
		{"dup id", "volunteer:\n  categories:\n    - id: tax\n      label: Tax\n    - id: tax\n      label: Tax 2\n", 0, ":5: volunteer.categories[1].id: \"tax\" is also categories[0]"},
		{"no label", "volunteer:\n  categories:\n    - id: tax\n", 0, "volunteer.categories[0].label: a label is required"},
		{"long label", "volunteer:\n  categories:\n    - id: tax\n      label: " + strings.Repeat("x", 61) + "\n", 0, ":4: volunteer.categories[0].label: "},
		{"bad lang", "volunteer:\n  categories:\n    - id: tax\n      label: Tax\n      translations: {Welsh: Treth}\n", 0, "volunteer.categories[0].translations.Welsh: \"Welsh\" is not a language code"},
		{"bad guide", "volunteer:\n  categories:\n    - id: tax\n      label: Tax\n      guide: ../etc/passwd\n", 0, ":5: volunteer.categories[0].guide:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var file struct {
				Volunteer Config `yaml:"volunteer"`
			}
			file.Volunteer = DefaultConfig()
			name := filepath.Join("etc", "kiosk.yaml")
			doc, err := confile.Decode(name, []byte(tc.yaml), &file)
			if err == nil {
				err = file.Volunteer.Validate(doc, "volunteer", tc.idle)
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("got %v, want valid", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), name)):
				t.Errorf("got %v, want an error %s…%s", err, name, tc.want)
			case tc.want != "" && confile.ExitStatus(err) != 2:
				t.Errorf("exit status %d, want 2", confile.ExitStatus(err))
			}
		})
	}
}

func TestIdleTimeout(t *testing.T) {
	for _, tc := range []struct{ in, want time.Duration }{
		{0, DefaultAssistedIdleTimeout}, {30 * time.Minute, 30 * time.Minute},
		{5 * time.Hour, MaxAssistedIdleTimeout}, {time.Second, MinAssistedIdleTimeout},
	} {
		c := Config{AssistedIdleTimeout: tc.in}
		if got := c.IdleTimeout(); got != tc.want {
			t.Errorf("IdleTimeout(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestReceiptOnlyVocabulary: whatever a page posts, the receipt carries an
// identifier from the configured vocabulary or nothing.
func TestReceiptOnlyVocabulary(t *testing.T) {
	cfg := Config{Categories: []Category{{ID: "council_tax", Label: "Council tax"}, {ID: "housing", Label: "Housing"}}}
	for _, tc := range []struct {
		name        string
		end         End
		want        bus.Receipt
		wantDropped string
	}{
		{"unassisted", End{}, bus.Receipt{}, ""},
		{"assisted skipped", End{Assisted: true}, bus.Receipt{Assisted: true}, ""},
		{"both", End{true, "housing", OutcomeFollowUp}, bus.Receipt{Assisted: true, Category: "housing", Outcome: OutcomeFollowUp}, ""},
		{"category only", End{true, "council_tax", ""}, bus.Receipt{Assisted: true, Category: "council_tax"}, ""},
		{"outcome only", End{true, "", OutcomeReferred}, bus.Receipt{Assisted: true, Outcome: OutcomeReferred}, ""},
		{"default category not configured", End{true, "parking", OutcomeDone}, bus.Receipt{Assisted: true, Outcome: OutcomeDone}, "category"},
		{"free text category", End{true, "helped Mrs Smith with her rent", OutcomeDone}, bus.Receipt{Assisted: true, Outcome: OutcomeDone}, "category"},
		{"url category", End{true, "https://council.example/pay?ref=123", ""}, bus.Receipt{Assisted: true}, "category"},
		{"label not id", End{true, "Council tax", ""}, bus.Receipt{Assisted: true}, "category"},
		{"free text outcome", End{true, "housing", "she was happy"}, bus.Receipt{Assisted: true, Category: "housing"}, "outcome"},
		{"case", End{true, "HOUSING", "DONE"}, bus.Receipt{Assisted: true}, "category,outcome"},
		{"unassisted with taps", End{false, "housing", OutcomeDone}, bus.Receipt{}, "category,outcome"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bus.Receipt{Category: "stale", Outcome: "stale", ResetMs: 42}
			dropped := cfg.Receipt(&r, tc.end)
			tc.want.ResetMs = 42
			if r.Assisted != tc.want.Assisted || r.Category != tc.want.Category || r.Outcome != tc.want.Outcome || r.ResetMs != 42 {
				t.Errorf("receipt = %+v, want %+v", r, tc.want)
			}
			if got := strings.Join(dropped, ","); got != tc.wantDropped {
				t.Errorf("dropped = %q, want %q", got, tc.wantDropped)
			}
			// Whatever got through is on the wire's identifier rules and in the vocabulary.
			if r.Category != "" {
				if _, ok := cfg.Category(r.Category); !ok {
					t.Errorf("category %q not in the vocabulary", r.Category)
				}
			}
			if r.Outcome != "" && !ValidOutcome(r.Outcome) {
				t.Errorf("outcome %q not in the vocabulary", r.Outcome)
			}
			// And it survives the D-Bus encoding as is.
			back, err := bus.ParseReceipt(r.Map())
			if err != nil || back.Category != r.Category || back.Outcome != r.Outcome || back.Assisted != r.Assisted {
				t.Errorf("through the bus: %+v, %v", back, err)
			}
		})
	}
}

func TestDefaultsValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(nil, "volunteer", 5*time.Minute); err != nil {
		t.Fatalf("DefaultConfig invalid: %v", err)
	}
	for _, o := range Outcomes() {
		if !ValidOutcome(o.ID) || !idRE.MatchString(o.ID) {
			t.Errorf("outcome %q is not a valid identifier", o.ID)
		}
		for _, lang := range []string{"en", "cy", "pl"} {
			if o.LabelIn(lang) == "" {
				t.Errorf("outcome %q has no label in %s", o.ID, lang)
			}
		}
	}
	if got := c.CategoryList()[1].LabelIn("cy"); got != "Treth gyngor" {
		t.Errorf("LabelIn(cy) = %q", got)
	}
	if got := c.CategoryList()[1].LabelIn("fr"); got != "Council tax" {
		t.Errorf("LabelIn(fr) = %q, want the English fallback", got)
	}
}

func TestHashPINCommand(t *testing.T) {
	for _, tc := range []struct{ name, in, wantErr string }{
		{"ok", "2580\n2580\n", ""},
		{"mismatch", "2580\n2581\n", "differ"},
		{"weak", "1234\n1234\n", "too easy"},
		{"letters", "abcd\n", "digits only"},
		{"eof", "2580\n", "no more input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, prompt bytes.Buffer
			err := HashPINCommand(strings.NewReader(tc.in), &out, &prompt)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if out.Len() != 0 {
					t.Errorf("printed %q on error", out.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out.String()+prompt.String(), "2580") {
				t.Errorf("the PIN was echoed: %q %q", out.String(), prompt.String())
			}
			// What it prints is a config the kiosk accepts, and the PIN unlocks it.
			var file struct {
				Volunteer Config `yaml:"volunteer"`
			}
			yml := "volunteer:\n  " + strings.ReplaceAll(strings.TrimSpace(out.String()), "\n", "\n  ") + "\n"
			doc, err := confile.Decode("kiosk.yaml", []byte(yml), &file)
			if err == nil {
				err = file.Volunteer.Validate(doc, "volunteer", 0)
			}
			if err != nil {
				t.Fatalf("printed config %q refused: %v", yml, err)
			}
			g := newGate(t, file.Volunteer, newClock(t))
			if m, err := g.Unlock("2580"); err != nil || m != MethodPIN {
				t.Errorf("Unlock = %q, %v", m, err)
			}
		})
	}
}

func TestAssistFlow(t *testing.T) {
	clk := newClock(t)
	cfg := Config{PINHash: cheapHash(t, "2580"), MaxFailures: 2, AssistedIdleTimeout: 25 * time.Minute,
		Categories: []Category{{ID: "council_tax", Label: "Council tax", Guide: "pay-council-tax"}, {ID: "other", Label: "Other"}}}
	a := NewAssist(&cfg, newGate(t, cfg, clk))
	msg := func(s string) Message {
		t.Helper()
		m, err := ParseMessage([]byte(s))
		if err != nil {
			t.Fatalf("ParseMessage(%s): %v", s, err)
		}
		return m
	}
	type step struct {
		in      string
		want    Reply
		wantErr bool
	}
	for i, s := range []step{
		{`{"action":"volunteer_service","category":"council_tax"}`, Reply{}, true}, // not assisted yet
		{`{"action":"volunteer_unlock","entry":"1111"}`, Reply{Main: "kiosk://volunteer?left=1&state=wrong"}, false},
		{`{"action":"volunteer_unlock","entry":"2580"}`, Reply{Main: "kiosk://home", Panel: "kiosk://volunteer/services?panel=1", Assisted: true, IdleTimeout: 25 * time.Minute}, false},
		{`{"action":"volunteer_service","category":"council_tax"}`, Reply{Panel: "kiosk://guides/pay-council-tax?panel=1"}, false},
		{`{"action":"volunteer_service","category":"other"}`, Reply{Panel: "kiosk://guides?panel=1"}, false},
		{`{"action":"volunteer_service","category":"https://x.example/"}`, Reply{}, true},
		{`{"action":"volunteer_handover"}`, Reply{Main: "kiosk://volunteer/outcome?category=other"}, false},
		{`{"action":"volunteer_resume"}`, Reply{Main: "kiosk://home", Panel: "kiosk://volunteer/services?panel=1"}, false},
		{`{"action":"volunteer_outcome","category":"council_tax","outcome":"helped a lot"}`, Reply{}, true},
		{`{"action":"volunteer_outcome","category":"council_tax","outcome":"needs_follow_up"}`, Reply{End: true}, false},
	} {
		got, err := a.Handle(msg(s.in))
		if (err != nil) != s.wantErr || got != s.want {
			t.Fatalf("step %d %s: got %+v, %v; want %+v (error %v)", i, s.in, got, err, s.want, s.wantErr)
		}
		if on, d := a.Active(); i >= 2 && (!on || d != 25*time.Minute) {
			t.Errorf("step %d: Active = %v, %v", i, on, d)
		}
	}
	r := bus.Receipt{ResetMs: 9}
	a.Finish(&r)
	if !r.Assisted || r.Category != "council_tax" || r.Outcome != OutcomeFollowUp {
		t.Errorf("receipt = %+v", r)
	}
	// The next session starts unassisted and its receipt says so.
	if on, _ := a.Active(); on {
		t.Errorf("still assisted after Finish")
	}
	r = bus.Receipt{}
	a.Finish(&r)
	if r.Assisted || r.Category != "" || r.Outcome != "" {
		t.Errorf("unassisted receipt = %+v", r)
	}

	// An assisted session that times out: assisted, nothing recorded.
	a.Handle(msg(`{"action":"volunteer_unlock","entry":"2580"}`))
	a.Handle(msg(`{"action":"volunteer_service","category":"council_tax"}`))
	r = bus.Receipt{}
	a.Finish(&r)
	if !r.Assisted || r.Category != "" || r.Outcome != "" {
		t.Errorf("timed-out assisted receipt = %+v", r)
	}

	// Skip on the outcome screen: assisted, no category, no outcome.
	a.Handle(msg(`{"action":"volunteer_unlock","entry":"2580"}`))
	if got, err := a.Handle(msg(`{"action":"volunteer_outcome"}`)); err != nil || !got.End {
		t.Fatalf("skip: %+v, %v", got, err)
	}
	r = bus.Receipt{}
	a.Finish(&r)
	if !r.Assisted || r.Category != "" || r.Outcome != "" {
		t.Errorf("skipped receipt = %+v", r)
	}

	// Lockout shows on the PIN page.
	a.Handle(msg(`{"action":"volunteer_unlock","entry":"1"}`))
	got, _ := a.Handle(msg(`{"action":"volunteer_unlock","entry":"2"}`))
	if got.Main != "kiosk://volunteer?minutes=5&state=locked" {
		t.Errorf("locked reply = %+v", got)
	}
}

func TestParseMessage(t *testing.T) {
	for _, tc := range []struct {
		in      string
		wantErr error
		ok      bool
	}{
		{`{"action":"volunteer_unlock","entry":"1"}`, nil, true},
		{`{"action":"continue"}`, ErrNotVolunteer, false},
		{`"continue"`, nil, false},
		{`{"action":"volunteer_unlock","entry":"` + strings.Repeat("1", 600) + `"}`, nil, false},
		{`{"action":1}`, nil, false},
	} {
		_, err := ParseMessage([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
			t.Errorf("ParseMessage(%.40s) = %v", tc.in, err)
		}
		if err != nil && strings.Contains(err.Error(), "1111") {
			t.Errorf("error repeats the entry: %v", err)
		}
	}
}
