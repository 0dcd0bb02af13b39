// A steady clock for drawing frames: worker timers keep running when the
// recording tab is in the background (say, while you present another window),
// where requestAnimationFrame and page timers are paused or throttled.
let timer = 0;
self.addEventListener('message', (e) => {
  clearInterval(timer);
  if (e.data > 0) timer = setInterval(() => self.postMessage(0), e.data);
});
