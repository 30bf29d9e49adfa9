/**
 * Command-line options of the benchmark scripts: `--help` prints the usage, and any mistake is answered
 * with the usage and exit code 2 (not a stack trace).
 */
export function optionsOrExit<T extends { values: { help?: boolean | undefined } }>(parse: () => T, usage: string) {
  const fail = (message: string): never => {
    console.error(`${message}\n\n${usage}`)
    process.exit(2)
  }
  let parsed: T
  try {
    parsed = parse()
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error))
  }
  if (parsed.values.help) {
    console.log(usage)
    process.exit(0)
  }
  /** An option's value as a whole number within [min, max]. */
  const whole = (name: string, value: string, min: number, max: number): number => {
    const number = Number(value)
    if (!Number.isInteger(number) || number < min || number > max) fail(`--${name} must be a whole number from ${min} to ${max}`)
    return number
  }
  return { values: parsed.values as T['values'], fail, whole }
}
