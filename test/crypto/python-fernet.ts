import {spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';

export const pythonPath = '/usr/bin/python3';

export type PythonJob =
	| {op: 'encrypt'; key: string; hex: string; time?: number}
	| {op: 'decrypt'; key: string; token: string; ttl?: number; now?: number}
	| {op: 'generate_key'};

export type PythonResult = string | {ok: true; hex: string} | {ok: false; error: string};

const script = `
import json, sys
from cryptography.fernet import Fernet, InvalidToken
out = []
for job in json.load(sys.stdin):
    if job["op"] == "generate_key":
        out.append(Fernet.generate_key().decode())
        continue
    f = Fernet(job["key"])
    if job["op"] == "encrypt":
        data = bytes.fromhex(job["hex"])
        token = f.encrypt_at_time(data, job["time"]) if "time" in job else f.encrypt(data)
        out.append(token.decode())
    else:
        try:
            if "ttl" in job:
                plain = f.decrypt_at_time(job["token"], job["ttl"], job["now"])
            else:
                plain = f.decrypt(job["token"])
            out.append({"ok": True, "hex": plain.hex()})
        except InvalidToken:
            out.append({"ok": False, "error": "InvalidToken"})
json.dump(out, sys.stdout)
`;

/** Why Python's cryptography.fernet cannot be used here, or undefined when it can. */
export function pythonUnavailableReason(): string | undefined {
	if (!existsSync(pythonPath)) {
		return `${pythonPath} does not exist`;
	}
	const probe = spawnSync(pythonPath, ['-c', 'import cryptography.fernet'], {encoding: 'utf8', timeout: 15_000});
	if (probe.error) {
		return `${pythonPath} could not run: ${probe.error.message}`;
	}
	if (probe.status !== 0) {
		return `${pythonPath} cannot import cryptography.fernet (install python3-cryptography): ${probe.stderr.trim().split('\n').at(-1) ?? ''}`;
	}
	return undefined;
}

/** Runs the jobs in one Python process; data crosses as hex inside JSON on stdin. */
export function runPython(jobs: PythonJob[]): PythonResult[] {
	const result = spawnSync(pythonPath, ['-c', script], {input: JSON.stringify(jobs), encoding: 'utf8', timeout: 30_000, maxBuffer: 64 << 20});
	if (result.error) {
		throw result.error;
	}
	if (result.status !== 0) {
		throw new Error(`python exited with ${result.status}: ${result.stderr}`);
	}
	return JSON.parse(result.stdout) as PythonResult[];
}
