import { E01Source } from '../src/formats/e01/reader';
import { hashStream } from '../src/acquire/pipeline';
(async () => {
  for (const f of process.argv.slice(2)) {
    const s = new E01Source(f);
    const r = await hashStream(s, ['md5', 'sha1'], { end: s.size, chunkSize: 4 << 20 });
    console.log(f, s.info.mediaSize, r.hashes, s.info.stored, s.info.header.c, s.info.segments.length);
    s.close();
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
