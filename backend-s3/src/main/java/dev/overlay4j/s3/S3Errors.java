package dev.overlay4j.s3;

import dev.overlay4j.api.Errno;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.FileSystemException;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The one mapping from S3 failures to errno-carrying exceptions. Messages name the layer and
 * the key, and keep only the service's error code: never request headers or credentials.
 */
final class S3Errors {

    private S3Errors() {
    }

    /** The exception for a failed request about {@code what} (a path or the layer). */
    static FileSystemException of(SdkException error, String what, String doing) {
        if (error instanceof S3Exception s3) {
            String code = s3.awsErrorDetails() == null ? null : s3.awsErrorDetails().errorCode();
            int status = s3.statusCode();
            String detail = doing + ": " + (code == null ? "" : code + ", ") + "HTTP " + status;
            return switch (status) {
                case 404 -> Errno.ENOENT.exception(what, detail);
                case 401, 403 -> Errno.EACCES.exception(what, detail);
                case 412 -> Errno.ESTALE.exception(what, detail + " (the object changed while open)");
                default -> Errno.EIO.exception(what, detail);
            };
        }
        if (error instanceof ApiCallTimeoutException) {
            return Errno.EIO.exception(what, doing + ": no answer within the time bound (option timeout)");
        }
        if (String.valueOf(error.getMessage()).startsWith("Unable to load credentials")) {
            return Errno.EACCES.exception(what, doing + ": no AWS credentials found (set AWS_ACCESS_KEY_ID and "
                    + "AWS_SECRET_ACCESS_KEY, AWS_PROFILE or ~/.aws/credentials; or anonymous=true for a public bucket)");
        }
        if (error instanceof AbortedException) {
            return Errno.EIO.exception(what, doing + ": interrupted");
        }
        return Errno.EIO.exception(what, doing + ": " + rootMessage(error));
    }

    /** Whether the failure is S3 saying the object changed (If-Match did not hold). */
    static boolean isStale(SdkException error) {
        return error instanceof S3Exception s3 && s3.statusCode() == 412;
    }

    static boolean isNotFound(SdkException error) {
        return error instanceof S3Exception s3 && s3.statusCode() == 404;
    }

    private static String rootMessage(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        String message = cause.getMessage() == null ? cause.getClass().getSimpleName()
                : cause.getClass().getSimpleName() + ": " + cause.getMessage();
        return message.length() > 300 ? message.substring(0, 300) + "..." : message;
    }

    static IOException interrupted(String what) {
        Thread.currentThread().interrupt();
        return new InterruptedIOException(what + ": interrupted");
    }
}
