package child

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z"
}

func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startShell runs script under sh, its stdout a pipe; it returns the
// process and the first line the script prints (a PID it reports).
func startShell(t *testing.T, script string) (*Process, int) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("sh", "-c", script)
	cmd.Stdout = w
	p, err := Start(cmd)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the script's PID: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	return p, pid
}

// TestStopEscalates: a child that ignores SIGTERM is killed after the
// grace period, and so is what it started.
func TestStopEscalates(t *testing.T) {
	p, grandchild := startShell(t, `trap "" TERM; sleep 60 & echo $!; wait`)
	start := time.Now()
	p.Stop(300 * time.Millisecond)
	if d := time.Since(start); d < 300*time.Millisecond || d > 10*time.Second {
		t.Errorf("Stop took %v; want the 300ms grace, then a kill", d)
	}
	eventually(t, 5*time.Second, "the grandchild to die", func() bool { return !alive(grandchild) })
	if alive(p.Pid()) {
		t.Errorf("the child is still alive")
	}
}

// TestStopPolite: a child that exits on SIGTERM is not waited for.
func TestStopPolite(t *testing.T) {
	p, _ := startShell(t, `echo $$; exec sleep 60`)
	start := time.Now()
	err := p.Stop(10 * time.Second)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Stop took %v for a child that obeys SIGTERM", d)
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Errorf("exit %v; want killed by SIGTERM", err)
	}
}

// TestGroupKilledOnExit: when a child exits, whatever it left running in
// its group is killed.
func TestGroupKilledOnExit(t *testing.T) {
	p, grandchild := startShell(t, `sleep 60 >/dev/null & echo $!; exit 0`)
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the child did not exit")
	}
	if err := p.Err(); err != nil {
		t.Errorf("exit: %v", err)
	}
	eventually(t, 5*time.Second, "the left-behind grandchild to die", func() bool { return !alive(grandchild) })
}

// TestDiesWithParent: when the process that started a child is killed,
// the kernel kills the child (PR_SET_PDEATHSIG), even one that writes
// nothing and so would never see a broken pipe.
func TestDiesWithParent(t *testing.T) {
	if os.Getenv("CHILD_HELPER") == "1" {
		cmd := exec.Command("sleep", "60")
		p, err := Start(cmd)
		if err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString(strconv.Itoa(p.Pid()) + "\n")
		time.Sleep(time.Minute)
		os.Exit(4)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	helper := exec.Command(os.Args[0], "-test.run=^TestDiesWithParent$")
	helper.Env = append(os.Environ(), "CHILD_HELPER=1")
	helper.Stdout = w
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	if !alive(pid) {
		t.Fatalf("the helper's child %d is not running", pid)
	}
	helper.Process.Kill()
	helper.Wait()
	eventually(t, 10*time.Second, "the orphaned child to die", func() bool { return !alive(pid) })
}
