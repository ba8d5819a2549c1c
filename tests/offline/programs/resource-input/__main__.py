"""A resource passed where the provider takes its name or id, as public programs do (bucket=bucket)."""

import pulumi
import pulumi_aws as aws

bucket = aws.s3.Bucket("site")
aws.s3.BucketObject("index", bucket=bucket, key="index.html", content="<h1>hi</h1>")
pulumi.export("bucket", bucket.id)
