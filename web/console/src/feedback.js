// What a scan sounds like: a high short beep for done, a low long one for
// refused, so staff need not look at the screen after each scan.
let context = null;

export function beep(ok) {
  try {
    context ??= new AudioContext();
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.frequency.value = ok ? 1320 : 220;
    oscillator.type = ok ? 'sine' : 'square';
    gain.gain.value = 0.08;
    oscillator.connect(gain).connect(context.destination);
    oscillator.start();
    oscillator.stop(context.currentTime + (ok ? 0.08 : 0.35));
  } catch {
    // No audio device (a headless test, a muted kiosk): colour alone tells.
  }
}
