// "Screen and camera": the screen with the camera in a rounded corner
// (picture-in-picture), drawn onto a canvas whose stream is what we record.

const FPS = 30;

function playing(stream) {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  video.play().catch(() => {});
  return video;
}

function roundedRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}

/** Returns {track, stop}: a video track of the composed picture. */
export function composeScreenAndCamera(screenStream, cameraStream) {
  const settings = screenStream.getVideoTracks()[0].getSettings();
  // Even dimensions, at most 1920 wide: encoders and the server's caps like that.
  const scale = Math.min(1, 1920 / (settings.width || 1280));
  const width = Math.round(((settings.width || 1280) * scale) / 2) * 2;
  const height = Math.round(((settings.height || 720) * scale) / 2) * 2;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  const screen = playing(screenStream);
  const camera = playing(cameraStream);

  function draw() {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, width, height);
    if (screen.videoWidth) {
      const s = Math.min(width / screen.videoWidth, height / screen.videoHeight);
      const w = screen.videoWidth * s;
      const h = screen.videoHeight * s;
      ctx.drawImage(screen, (width - w) / 2, (height - h) / 2, w, h);
    }
    if (camera.videoWidth) {
      const w = Math.round(width * 0.22);
      const h = Math.round((w * camera.videoHeight) / camera.videoWidth);
      const margin = Math.round(width * 0.02);
      const x = width - w - margin;
      const y = height - h - margin;
      ctx.save();
      roundedRect(ctx, x, y, w, h, Math.round(w * 0.08));
      ctx.clip();
      // Mirrored, as people expect to see themselves.
      ctx.translate(x + w, y);
      ctx.scale(-1, 1);
      ctx.drawImage(camera, 0, 0, w, h);
      ctx.restore();
    }
  }

  const ticker = new Worker(new URL('./ticker.js', import.meta.url));
  ticker.addEventListener('message', draw);
  ticker.postMessage(Math.round(1000 / FPS));
  const track = canvas.captureStream(FPS).getVideoTracks()[0];
  return {
    track,
    stop() {
      ticker.postMessage(0);
      ticker.terminate();
      track.stop();
      screen.srcObject = null;
      camera.srcObject = null;
    },
  };
}
