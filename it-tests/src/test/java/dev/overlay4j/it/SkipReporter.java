package dev.overlay4j.it;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;

/**
 * Prints every skipped test or test class with its reason on the console, where Maven's summary
 * shows only a count ("Skipped: 6"): a machine without Docker or root then says what to do.
 */
public final class SkipReporter implements TestExecutionListener {

    @Override
    public void executionFinished(TestIdentifier test, TestExecutionResult result) {
        if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
            String reason = result.getThrowable().map(Throwable::getMessage).orElse("no reason given");
            System.out.println("[SKIPPED] " + name(test) + ": " + reason);
        }
    }

    @Override
    public void executionSkipped(TestIdentifier test, String reason) {
        System.out.println("[SKIPPED] " + name(test) + ": " + reason);
    }

    private static String name(TestIdentifier test) {
        return test.getLegacyReportingName();
    }
}
