// `appendToStreams` and `readStreams` for adapters that append or read one stream per call, and the checks every adapter makes.
import { forEachBounded } from '../for-each-bounded.ts'
import { WrongExpectedRevisionError, type AppendResult, type RecordedEvent, type StreamAppend } from './port.ts'

/** Each stream on its own, `concurrency` at a time; a stream's conflict is its result, any other failure rejects. */
export async function appendEach(
  appendOne: (append: StreamAppend) => Promise<AppendResult>,
  appends: StreamAppend[],
  concurrency = 8,
): Promise<Array<AppendResult | WrongExpectedRevisionError>> {
  assertDistinctStreams(appends)
  const results: Array<AppendResult | WrongExpectedRevisionError> = new Array(appends.length)
  await forEachBounded(
    appends.map((append, i) => ({ append, i })),
    concurrency,
    async ({ append, i }) => {
      try {
        results[i] = await appendOne(append)
      } catch (err) {
        if (!(err instanceof WrongExpectedRevisionError)) throw err
        results[i] = err
      }
    },
  )
  return results
}

export function assertDistinctStreams(appends: StreamAppend[]): void {
  const seen = new Set<string>()
  for (const a of appends) {
    if (seen.has(a.streamName)) throw new RangeError(`appendToStreams: stream ${a.streamName} appears twice; put its events in one append`)
    seen.add(a.streamName)
  }
}

export function assertDistinctNames(names: string[]): void {
  if (new Set(names).size !== names.length) throw new RangeError('readStreams: a stream is named twice')
}

/** Each stream read on its own, `concurrency` at a time (in flight together over one connection); any failure rejects. */
export async function readEach(readOne: (name: string) => Promise<RecordedEvent[]>, names: string[], concurrency = 16): Promise<RecordedEvent[][]> {
  assertDistinctNames(names)
  const results: RecordedEvent[][] = new Array(names.length)
  await forEachBounded(
    names.map((name, i) => ({ name, i })),
    concurrency,
    async ({ name, i }) => {
      results[i] = await readOne(name)
    },
  )
  return results
}
