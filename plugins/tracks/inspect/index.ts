/** The inspector of each format (inspector.ts says what they do). */
import type { TrackFormat } from '../contract.ts';
import { AiffInspector } from './aiff.ts';
import { FlacInspector } from './flac.ts';
import type { Inspector } from './inspector.ts';
import { Mp3Inspector } from './mp3.ts';
import { WavInspector } from './wav.ts';

export type { Inspector, Verdict } from './inspector.ts';

export function inspectorFor(format: TrackFormat): Inspector {
  switch (format) {
    case 'wav':
      return new WavInspector();
    case 'aiff':
      return new AiffInspector();
    case 'flac':
      return new FlacInspector();
    case 'mp3':
      return new Mp3Inspector();
  }
}
