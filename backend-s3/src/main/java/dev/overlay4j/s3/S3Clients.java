package dev.overlay4j.s3;

import dev.overlay4j.api.Errno;
import java.io.IOException;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.AwsProfileRegionProvider;
import software.amazon.awssdk.regions.providers.AwsRegionProviderChain;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.regions.providers.SystemSettingsRegionProvider;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/** Builds the SDK client for a layer's settings: the one place that decides timeouts and retries. */
final class S3Clients {

    private S3Clients() {
    }

    static S3Client create(S3Settings settings) throws IOException {
        Duration timeout = settings.timeout();
        // Each attempt gets its share of the bound so that every retry still fits within it.
        Duration attempt = timeout.dividedBy(settings.attempts()).plusMillis(100);
        S3ClientBuilder builder = S3Client.builder()
                .httpClientBuilder(UrlConnectionHttpClient.builder()
                        .connectionTimeout(min(attempt, Duration.ofSeconds(5)))
                        .socketTimeout(attempt))
                .region(region(settings))
                .forcePathStyle(settings.pathStyle())
                // Over plain http the SDK would sign uploads as aws-chunked; s3proxy leaves such a
                // body of an empty object unread and drops the connection, which the JDK's
                // keep-alive cache then hands to the next upload ("Error writing request body").
                .serviceConfiguration(c -> c.chunkedEncodingEnabled(false).expectContinueEnabled(false))
                // Many S3-compatible stores do not know the newer flexible checksums.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .credentialsProvider(settings.anonymous()
                        ? AnonymousCredentialsProvider.create()
                        : DefaultCredentialsProvider.builder().build())
                .overrideConfiguration(o -> o
                        .apiCallTimeout(timeout)
                        .apiCallAttemptTimeout(attempt)
                        .retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder()
                                .maxAttempts(settings.attempts())
                                .backoffStrategy(BackoffStrategy.exponentialDelayHalfJitter(
                                        Duration.ofMillis(100), min(attempt, Duration.ofSeconds(2))))
                                // An outage must not leave the client refusing to retry after it ends.
                                .circuitBreakerEnabled(false)
                                .build()));
        if (settings.endpoint() != null) {
            builder.endpointOverride(settings.endpoint());
        }
        return builder.build();
    }

    private static Region region(S3Settings settings) throws IOException {
        if (settings.region() != null) {
            return Region.of(settings.region());
        }
        try {
            // With an endpoint, skip the chain's instance-metadata lookup (a second-long probe).
            return (settings.endpoint() == null ? new DefaultAwsRegionProviderChain()
                    : new AwsRegionProviderChain(new SystemSettingsRegionProvider(), new AwsProfileRegionProvider()))
                    .getRegion();
        } catch (SdkClientException e) {
            if (settings.endpoint() != null) {
                // S3-compatible stores accept any region name in the signature.
                return Region.US_EAST_1;
            }
            throw Errno.EINVAL.exception(settings.describe(),
                    "no AWS region: give option region=NAME or set AWS_REGION");
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
