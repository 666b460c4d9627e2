// Package camera takes photos with a USB camera for the kiosk's picker
// (issue 15): a live preview as JPEG frames at a modest rate, and a
// full-size still when the resident's countdown ends (the countdown is the
// caller's). It drives GStreamer's gst-launch-1.0 (Debian
// gstreamer1.0-tools, -plugins-base, -plugins-good) as a child process.
//
// # Why GStreamer in a child, and not V4L2 directly
//
//   - USB cameras differ: MJPEG or YUYV, odd sizes, frame rates that
//     depend on both. GStreamer's v4l2src and decodebin negotiate all of
//     that; V4L2 by hand means ioctls, buffer queues and a colour
//     conversion for every raw format, which is a driver of our own to
//     maintain.
//   - The same pipeline runs on GStreamer's videotestsrc in tests and demos
//     (camera.device: test), so the code under test is the code that runs.
//   - In a child, a camera that hangs or a plugin that crashes costs a
//     photo, not the kiosk; no cgo (kiosk/webkit stays the only cgo), and
//     stopping is killing a process group, which also frees the device.
//   - The pipeline does the work where it is cheap: frames past the
//     preview rate are dropped before decoding, then one branch scales and
//     encodes the preview (quality 70), the other encodes the full-size
//     still (quality 90); each arrives as multipart JPEG on its own pipe
//     (stdout, fd 3). Only the newest frame of each is kept, in memory.
//
// # The real USB path
//
// A UVC camera appears as /dev/videoN (the picture) and /dev/videoN+1
// (metadata). Name it in the config by its stable link,
// /dev/v4l/by-id/usb-VENDOR_MODEL_SERIAL-video-index0; the kiosk user
// needs the video group. The pipeline is
//
//	v4l2src device=DEV ! image/jpeg,width=W,height=H;video/x-raw,width=W,height=H
//	  ! videorate max-rate=FPS ! decodebin ! videoconvert ! videoscale
//	  ! tee → [videoscale to the preview width ! jpegenc ! multipartmux ! fd 1]
//	        → [jpegenc ! multipartmux ! fd 3]
//
// so MJPEG is preferred (720p at 30 fps over USB 2), raw YUYV taken where a
// camera has no MJPEG at that size. Probe checks the node with
// VIDIOC_QUERYCAP without disturbing a running preview.
//
// # Driving it from the GTK loop
//
// Start returns at once with a Stream. Read Stream.Frames in a goroutine
// and hand each frame to the page (it holds only the newest one, so a slow
// reader skips frames rather than queueing them). When the countdown ends,
// call Capture from a goroutine: it returns the next full-size still as a
// capture.Page (a photo, counted). Stop ends the stream and frees the
// camera; always call it when the camera page closes.
package camera

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/kiosk/capture"
	"accesskiosk/kiosk/capture/internal/child"
)

// Device is the device name in health warnings ("camera_missing").
const Device = "camera"

// Errors for expected states, checked with errors.Is.
var (
	// ErrNotConfigured: the config names no camera.
	ErrNotConfigured = errors.New("no camera is configured")
	// ErrBusy: a stream is open on this Camera already, or another program
	// holds the device.
	ErrBusy = errors.New("the camera is busy")
	// ErrAbsent: the configured device is not there.
	ErrAbsent = errors.New("the camera is not connected")
	// ErrNoPicture: the camera sent no frame in time, or cannot give the
	// configured size.
	ErrNoPicture = errors.New("the camera sends no picture")
	// ErrUnavailable: gst-launch-1.0 or a plugin the pipeline needs is not
	// installed.
	ErrUnavailable = errors.New("GStreamer (Debian gstreamer1.0-tools, gstreamer1.0-plugins-base, gstreamer1.0-plugins-good) is not installed")
	// ErrStopped: the stream ended before a still arrived.
	ErrStopped = errors.New("the camera stream has stopped")
)

// Options are a Camera's dependencies.
type Options struct {
	// Program is the gst-launch-1.0 to run; "" means the one on PATH.
	Program string
	// Log gets operational events (a pipeline that failed) and never a
	// picture; nil means discard.
	Log logrus.FieldLogger
	// Counters, when set, counts each photo taken.
	Counters *capture.Counters
	// FirstFrameTimeout is how long Start waits for a first frame before
	// the stream ends with ErrNoPicture; 0 means 15s.
	FirstFrameTimeout time.Duration
	// Env is added to gst-launch's environment.
	Env []string
}

// Camera is the configured camera.
type Camera struct {
	cfg  Config
	opt  Options
	log  logrus.FieldLogger
	prog string

	mu   sync.Mutex
	open bool
}

// New returns a Camera for cfg (which has passed Validate). It does not
// touch the device.
func New(cfg Config, o Options) *Camera {
	log := o.Log
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = l
	}
	if o.FirstFrameTimeout <= 0 {
		o.FirstFrameTimeout = 15 * time.Second
	}
	prog := o.Program
	if prog == "" {
		prog = "gst-launch-1.0"
	}
	return &Camera{cfg: cfg, opt: o, log: log.WithField("component", "camera"), prog: prog}
}

// Configured reports whether the config names a camera; when it does not,
// the picker leaves photos out.
func (c *Camera) Configured() bool { return c.cfg.Configured() }

// Config is the camera's config.
func (c *Camera) Config() Config { return c.cfg }

// Frame is one preview frame.
type Frame struct {
	JPEG []byte
	// Seq counts frames from 1; a gap means frames were skipped.
	Seq uint64
}

// Stream is an open camera.
type Stream struct {
	cam    *Camera
	proc   *child.Process
	frames chan Frame
	done   chan struct{}
	stderr *headBuffer

	mu       sync.Mutex
	err      error
	still    []byte
	stillSeq uint64
	stillNew chan struct{} // closed and replaced at each still
	stopping bool
}

const boundary = "akframe"

// pipeline is gst-launch's arguments.
func (c *Camera) pipeline() []string {
	w, h := c.cfg.width(), c.cfg.height()
	pw, ph := c.cfg.previewSize()
	size := fmt.Sprintf("width=%d,height=%d", w, h)
	var a []string
	if c.cfg.Device == TestDevice {
		a = []string{"videotestsrc", "is-live=true", "pattern=smpte", "!", "video/x-raw," + size + ",framerate=15/1"}
	} else {
		a = []string{"v4l2src", "device=" + c.cfg.Device, "!", "image/jpeg," + size + ";video/x-raw," + size}
	}
	a = append(a,
		"!", "videorate", "max-rate="+strconv.Itoa(c.cfg.fps()),
		"!", "decodebin", "!", "videoconvert", "!", "videoscale",
		"!", "video/x-raw,"+size+",pixel-aspect-ratio=1/1",
		"!", "tee", "name=t",
		"t.", "!", "queue", "max-size-buffers=2", "leaky=downstream",
		"!", "videoscale", "!", fmt.Sprintf("video/x-raw,width=%d,height=%d", pw, ph),
		"!", "jpegenc", "quality=70", "!", "multipartmux", "boundary="+boundary, "!", "fdsink", "fd=1", "sync=false",
		"t.", "!", "queue", "max-size-buffers=2", "leaky=downstream",
		"!", "jpegenc", "quality=90", "!", "multipartmux", "boundary="+boundary, "!", "fdsink", "fd=3", "sync=false",
	)
	return append([]string{"-q"}, a...)
}

// Start opens the camera and starts the preview. It returns at once;
// frames arrive on Stream.Frames. It fails at once with ErrNotConfigured,
// ErrBusy when a stream is open, or ErrUnavailable; a device that is
// missing or failing ends the stream with an error (Stream.Err). The
// stream also ends when ctx is done.
func (c *Camera) Start(ctx context.Context) (*Stream, error) {
	if !c.Configured() {
		return nil, ErrNotConfigured
	}
	c.mu.Lock()
	if c.open {
		c.mu.Unlock()
		return nil, ErrBusy
	}
	c.open = true
	c.mu.Unlock()
	s, err := c.start(ctx)
	if err != nil {
		c.mu.Lock()
		c.open = false
		c.mu.Unlock()
		return nil, err
	}
	return s, nil
}

func (c *Camera) start(ctx context.Context) (*Stream, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	sr, sw, err := os.Pipe()
	if err != nil {
		pr.Close()
		pw.Close()
		return nil, err
	}
	s := &Stream{cam: c, frames: make(chan Frame, 1), done: make(chan struct{}), stderr: &headBuffer{}, stillNew: make(chan struct{})}
	cmd := exec.Command(c.prog, c.pipeline()...)
	cmd.Stdout = pw
	cmd.ExtraFiles = []*os.File{sw} // fd 3
	cmd.Stderr = s.stderr
	cmd.Env = append(append(os.Environ(), c.opt.Env...), "LC_ALL=C")
	s.proc, err = child.Start(cmd)
	pw.Close()
	sw.Close()
	if err != nil {
		pr.Close()
		sr.Close()
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("camera: %w", ErrUnavailable)
		}
		return nil, fmt.Errorf("camera: start gst-launch-1.0: %w", err)
	}

	var wg sync.WaitGroup
	first := make(chan struct{})
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.readPreview(pr, first)
	}()
	go func() {
		defer wg.Done()
		s.readStills(sr)
	}()
	go s.live(ctx, first, &wg)
	return s, nil
}

// readPreview reads the pipeline's preview frames until it ends, keeping
// only the newest in s.frames, and closes first at the first frame.
func (s *Stream) readPreview(pr *os.File, first chan struct{}) {
	defer pr.Close()
	var firstOnce sync.Once
	var seq uint64
	readParts(pr, func(b []byte) {
		firstOnce.Do(func() { close(first) })
		seq++
		f := Frame{JPEG: b, Seq: seq}
		select {
		case s.frames <- f:
		default:
			select {
			case <-s.frames:
			default:
			}
			s.frames <- f
		}
	})
}

// readStills keeps the pipeline's newest still and wakes Capture.
func (s *Stream) readStills(sr *os.File) {
	defer sr.Close()
	readParts(sr, func(b []byte) {
		s.mu.Lock()
		s.still = b
		s.stillSeq++
		close(s.stillNew)
		s.stillNew = make(chan struct{})
		s.mu.Unlock()
	})
}

// live is the stream's life: it waits for the context, the pipeline's end
// or a missing first frame, stops the pipeline, waits for the readers (wg)
// and records why the stream ended.
func (s *Stream) live(ctx context.Context, first <-chan struct{}, wg *sync.WaitGroup) {
	c := s.cam
	timer := time.NewTimer(c.opt.FirstFrameTimeout)
	defer timer.Stop()
	var why error
	select {
	case <-ctx.Done():
	case <-s.proc.Done():
	case <-timer.C:
		select {
		case <-first:
		default:
			why = fmt.Errorf("%w (no frame within %v)", ErrNoPicture, c.opt.FirstFrameTimeout)
		}
	}
	if why == nil {
		select {
		case <-ctx.Done():
		case <-s.proc.Done():
		}
	}
	s.mu.Lock()
	stopping := s.stopping
	s.stopping = true
	s.mu.Unlock()
	werr := s.proc.Stop(time.Second)
	wg.Wait()
	switch {
	case why != nil:
	case stopping || ctx.Err() != nil:
	case werr != nil:
		why = pipelineError(werr, s.stderr.String(), c.cfg)
	default:
		why = ErrStopped // the pipeline ended by itself
	}
	if why != nil {
		c.log.WithError(why).Warn("camera stream failed")
	}
	s.mu.Lock()
	s.err = why
	s.still = nil
	close(s.stillNew)
	s.mu.Unlock()
	close(s.frames)
	c.mu.Lock()
	c.open = false
	c.mu.Unlock()
	close(s.done)
}

// Frames delivers preview frames, newest only (a slow reader skips
// frames); it is closed when the stream ends.
func (s *Stream) Frames() <-chan Frame { return s.frames }

// Done is closed when the stream has ended and gst-launch is gone.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Err says why the stream ended, once Done is closed: nil after Stop or
// the context's end; ErrAbsent, ErrBusy, ErrNoPicture, ErrUnavailable or
// another error from the pipeline otherwise.
func (s *Stream) Err() error {
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Stop ends the stream, frees the camera and returns once gst-launch is
// gone. It is safe to call more than once and from any goroutine.
func (s *Stream) Stop() {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	s.proc.Stop(time.Second)
	<-s.done
}

// Capture returns the first full-size still that arrives after the call
// (within a frame interval, 1/preview_fps), as a photo page, and counts a
// photo. It fails with ErrStopped if the stream ends first, or ctx's error.
func (s *Stream) Capture(ctx context.Context) (*capture.Page, error) {
	s.mu.Lock()
	wait := s.stillNew
	s.mu.Unlock()
	select {
	case <-wait:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.mu.Lock()
	still := s.still
	s.mu.Unlock()
	if still == nil {
		return nil, ErrStopped
	}
	p, err := capture.NewPageFromJPEG(still, capture.Photo, 0)
	if err != nil {
		return nil, fmt.Errorf("camera: %w", err)
	}
	s.cam.opt.Counters.AddPhoto()
	return p, nil
}

// maxPart bounds one JPEG from the pipeline (a 4K still at quality 90 is
// a few MB).
const maxPart = 32 << 20

// readParts reads multipartmux's output ("--akframe\r\nContent-Type:
// image/jpeg\r\nContent-Length: N\r\n\r\n<N bytes>\r\n", repeated) and
// calls part with each body, until the pipe ends or the stream is
// malformed.
func readParts(r io.Reader, part func([]byte)) {
	tr := textproto.NewReader(bufio.NewReaderSize(r, 256<<10))
	for {
		line, err := tr.ReadLine()
		if err != nil {
			return
		}
		if line == "" {
			continue
		}
		if line != "--"+boundary {
			return
		}
		h, err := tr.ReadMIMEHeader()
		if err != nil {
			return
		}
		n, err := strconv.Atoi(h.Get("Content-Length"))
		if err != nil || n <= 0 || n > maxPart {
			return
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(tr.R, b); err != nil {
			return
		}
		part(b)
	}
}

// pipelineError turns gst-launch's exit and its last words into an error.
func pipelineError(exit error, stderr string, cfg Config) error {
	l := strings.ToLower(stderr)
	first := firstError(stderr)
	switch {
	case strings.Contains(l, "cannot identify device"), strings.Contains(l, "no such file or directory"):
		return fmt.Errorf("%w (%s)", ErrAbsent, first)
	case strings.Contains(l, "busy"):
		return fmt.Errorf("%w (%s)", ErrBusy, first)
	case strings.Contains(l, "no element"):
		return fmt.Errorf("%w (%s)", ErrUnavailable, first)
	case strings.Contains(l, "not-negotiated"), strings.Contains(l, "could not negotiate"):
		return fmt.Errorf("%w: it cannot give %d × %d (see v4l2-ctl --list-formats-ext; %s)", ErrNoPicture, cfg.width(), cfg.height(), first)
	}
	if first == "" {
		first = exit.Error()
	}
	return fmt.Errorf("camera: %s", first)
}

// firstError is gst-launch's first ERROR or WARNING line.
func firstError(stderr string) string {
	for l := range strings.SplitSeq(stderr, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "ERROR:") || strings.HasPrefix(l, "WARNING:") {
			return l
		}
	}
	return strings.TrimSpace(stderr)
}

// headBuffer keeps the first 4 KiB written to it (gst-launch's stderr;
// its first error is the cause).
type headBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *headBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := 4096 - len(t.buf); room > 0 {
		t.buf = append(t.buf, p[:min(len(p), room)]...)
	}
	return len(p), nil
}

func (t *headBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
