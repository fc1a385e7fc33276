// Who gets the embedded database's one connection next. PGlite queues single statements and
// transactions in one FIFO line, so an API read arriving behind a few of the sync's transactions
// waits for all of them (the load run measured p99 45 s). Here a waiting single statement (a
// read, short) goes before waiting transactions, but after `maxStatementsAhead` statements in a
// row while a transaction waits, that transaction gets its turn: neither kind starves.
//
// One holder at a time, always: a statement never runs while another caller's transaction is
// open (the transaction holds the turn from BEGIN to COMMIT/ROLLBACK).

export type TurnKind = 'statement' | 'transaction'

export class EmbeddedTurns {
  private busy = false
  private readonly statements: Array<() => void> = []
  private readonly transactions: Array<() => void> = []
  /** Statements granted in a row while a transaction was waiting. */
  private statementsAhead = 0

  constructor(private readonly maxStatementsAhead = 16) {}

  /** Runs `fn` when it is this caller's turn; the turn passes on when `fn` settles. */
  async run<T>(kind: TurnKind, fn: () => Promise<T>): Promise<T> {
    await this.acquire(kind)
    try {
      return await fn()
    } finally {
      this.release()
    }
  }

  private acquire(kind: TurnKind): Promise<void> {
    if (!this.busy) {
      this.busy = true
      return Promise.resolve()
    }
    return new Promise((resolve) => (kind === 'statement' ? this.statements : this.transactions).push(resolve))
  }

  private release(): void {
    const next = this.next()
    if (next) next()
    else this.busy = false // nobody waits: the next caller takes the turn at once
  }

  private next(): (() => void) | undefined {
    const transactionWaits = this.transactions.length > 0
    if (this.statements.length > 0 && (!transactionWaits || this.statementsAhead < this.maxStatementsAhead)) {
      if (transactionWaits) this.statementsAhead += 1
      return this.statements.shift()
    }
    this.statementsAhead = 0
    return this.transactions.shift() ?? this.statements.shift()
  }
}
