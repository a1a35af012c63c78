// Sounds made with WebAudio oscillators (no audio files): the call ring and ringback, and the
// short chime of a notification.
const TONES = {
  // The incoming ring: two short chimes (a major third), then a pause.
  ring: { notes: [659.25, 830.61], volume: 0.2, cycle: 2.4, bursts: [[0, 0.35], [0.5, 0.85]], rounds: 50 },
  // What the caller hears while it rings at the other end: one soft long beep.
  ringback: { notes: [440, 480], volume: 0.05, cycle: 4, bursts: [[0, 1.2]], rounds: 30 },
  // A new message or a match: one short soft chime, once.
  notify: { notes: [880, 1318.5], volume: 0.08, cycle: 1, bursts: [[0, 0.18]], rounds: 1 },
};

/** Start a tone; returns {stop()}. The whole pattern is scheduled ahead. */
export function playTone(name) {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return { stop() {} };
  const { notes, volume, cycle, bursts, rounds } = TONES[name];
  const context = new Context();
  context.resume().catch(() => {}); // may stay suspended without a user gesture: silent, not broken
  const output = context.createGain();
  output.gain.value = volume;
  output.connect(context.destination);
  const envelope = context.createGain();
  envelope.gain.value = 0;
  envelope.connect(output);
  const oscillators = notes.map((frequency) => {
    const oscillator = context.createOscillator();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    oscillator.connect(envelope);
    oscillator.start();
    return oscillator;
  });
  const start = context.currentTime + 0.05;
  for (let round = 0; round < rounds; round += 1) {
    for (const [from, to] of bursts) {
      const on = start + round * cycle + from;
      const off = start + round * cycle + to;
      envelope.gain.setValueAtTime(0, on);
      envelope.gain.linearRampToValueAtTime(1, on + 0.02);
      envelope.gain.setValueAtTime(1, off - 0.06);
      envelope.gain.linearRampToValueAtTime(0, off);
    }
  }
  const stop = () => {
    for (const oscillator of oscillators) {
      try { oscillator.stop(); } catch { /* already stopped */ }
    }
    context.close().catch(() => {});
  };
  if (rounds === 1) setTimeout(stop, (cycle + 0.2) * 1000);
  return { stop };
}
