// Imported before onnxruntime-node by everything that loads it. The Linux build of onnxruntime 1.30
// carries Microsoft's telemetry client, on by default: a process that creates a session writes
// /tmp/mat-debug-<pid>.log and ~/.cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db, and
// about half a minute later looks up mobile.events.data.microsoft.com to upload (seen under strace,
// test/unit/engine/no-network.test.ts). Wisp reaches no host the user did not choose, so it sets
// the library's own switch, which the library reads from the environment.
process.env.ORT_DISABLE_TELEMETRY = '1';
