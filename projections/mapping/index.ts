// Pure mappings from domain state to Learn Amp payloads. No I/O.
export * from './learnamp-user.ts'
export * from './learnamp-team-location.ts'
