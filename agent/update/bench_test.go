package update

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"accesskiosk/fleet/release"
	"accesskiosk/fleet/release/releasetest"
)

// BenchmarkResume downloads a full bundle whose connection is cut once at
// a random offset, and reports the bytes fetched with Range resume against
// what a restart from zero (go-tuf's DownloadTarget, or any client without
// resume) fetches for the same cut.
func BenchmarkResume(b *testing.B) {
	f := &fixture{repo: releasetest.NewRepo(b, release.Options{}), dir: filepath.Join(b.TempDir(), "device")}
	f.root, _ = f.repo.RootJSON()
	f.v1 = f.repo.Add(b, "1.0.0", "amd64", releasetest.Files("1.0.0", 4_000_000, 1))
	f.srv = releasetest.Serve(b, f.repo.Handler())
	u := f.updater(b, func(c *Config) { c.NoDelta = true })
	up, err := u.refresh(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	tf, err := up.GetTargetInfo(f.v1.Target)
	if err != nil {
		b.Fatal(err)
	}
	var resumed, restarted int64
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		os.RemoveAll(filepath.Join(f.dir, downloadsDir))
		f.srv.Reset()
		cut := releasetest.RandomOffset(tf.Length)
		f.srv.CutNext(cut)
		b.StartTimer()
		if _, err := u.download(context.Background(), f.v1.Target, tf); err != nil {
			b.Fatal(err)
		}
		resumed += f.srv.Served()
		restarted += cut + tf.Length
	}
	b.ReportMetric(float64(tf.Length), "bundle-bytes")
	b.ReportMetric(float64(resumed)/float64(b.N), "fetched-resume-bytes/op")
	b.ReportMetric(float64(restarted)/float64(b.N), "fetched-restart-bytes/op")
	b.ReportMetric(float64(restarted-resumed)/float64(b.N), "saved-bytes/op")
	b.ReportMetric(float64(resumed)/float64(restarted), "resume/restart")
}
