package shell

import (
	"context"
	"net/http"
	"strings"
	"time"

	"accesskiosk/kiosk/webkit"
)

// How often the offline check runs: while online, and while offline.
// Variables so that tests can make them short.
var (
	offlineCheckEvery = 20 * time.Second
	offlineRetryEvery = 3 * time.Second
	offlineTimeout    = 5 * time.Second
)

// offlinePage is the built-in page shown while the check URL does not answer.
const offlinePage = "kiosk://offline"

// watchOffline asks config offline_check (when set) whether the internet
// works. Two failures in a row show the offline page instead of whatever
// the resident had (WebKit's own error pages never show); the first answer
// afterwards takes them back to it (or home). It logs transitions only,
// never a URL the resident visited.
func (s *Shell) watchOffline() {
	if s.cfg.OfflineCheck == "" {
		return
	}
	client := &http.Client{Timeout: offlineTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse // any answer means online
	}}
	check := func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), offlineTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, s.cfg.OfflineCheck, nil)
		if err != nil {
			return false
		}
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		online, fails := true, 0
		for {
			every := offlineCheckEvery
			if !online || fails > 0 {
				every = offlineRetryEvery
			}
			select {
			case <-s.stopTick:
				return
			case <-time.After(every):
			}
			ok := check()
			switch {
			case ok && !online:
				online, fails = true, 0
				s.log.Info("internet connection is back")
				webkit.Invoke(s.leaveOffline)
			case ok:
				fails = 0
			case online:
				if fails++; fails >= 2 {
					online = false
					s.log.Warn("internet connection lost; showing the offline page")
					webkit.Invoke(s.showOffline)
				}
			}
		}
	}()
}

func (s *Shell) showOffline() {
	if s.closed || s.view == nil || s.reset != nil {
		return
	}
	uri := s.view.URI()
	if strings.HasPrefix(uri, offlinePage) {
		return
	}
	s.cur.beforeOffline = uri
	s.view.LoadURI(offlinePage)
}

func (s *Shell) leaveOffline() {
	if s.closed || s.view == nil || !strings.HasPrefix(s.view.URI(), offlinePage) {
		return
	}
	// Load the page the resident was on again (through the allowlist, like
	// every navigation) rather than going back in history, which may hold
	// a page that failed while the network was down.
	back := s.cur.beforeOffline
	s.cur.beforeOffline = ""
	if back == "" {
		back = s.cfg.HomeURL
	}
	s.view.LoadURI(back)
}
